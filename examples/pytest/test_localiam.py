"""Tests using the fixtures of conftest.py (run: LOCALIAM_BIN=target/debug/localiam
python3 -m pytest examples/pytest)."""

NAME = "pytest-alice"


def test_a_user_signs_as_itself(iam, client_for):
    iam.create_user(UserName=NAME)
    key = iam.create_access_key(UserName=NAME)["AccessKey"]
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::000000000000:user/{NAME}"


def test_each_test_starts_from_the_reset_state(iam, sts):
    assert NAME not in [u["UserName"] for u in iam.list_users()["Users"]]
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
