//! The checked-in generated protocol code must be what tools/codegen.py makes of the pinned models.

use std::process::Command;

#[test]
fn generated_code_is_fresh() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{root}/tools/codegen.py"))
        .arg("--check")
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "regenerating would change src/protocol/generated: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_model_operation_is_known_to_the_dispatcher() {
    use localiam::api::Service;
    for op in localiam::protocol::iam::OPERATIONS {
        assert_eq!(Service::of_action(op), Some(Service::Iam), "{op}");
    }
    for op in localiam::protocol::sts::OPERATIONS {
        assert_eq!(Service::of_action(op), Some(Service::Sts), "{op}");
    }
}
