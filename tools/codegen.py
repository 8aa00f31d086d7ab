#!/usr/bin/env python3
"""Generates localiam's typed Query-protocol layer from the pinned botocore service models.

    python3 tools/codegen.py           # rewrite src/protocol/generated/{iam,sts}.rs
    python3 tools/codegen.py --check   # exit 1 if regenerating would change them

For every operation of model/iam-2010-05-08.json and model/sts-2011-06-15.json it emits:
- input structures with `FromParams` decoders that apply the model's constraints (required, length,
  pattern, enum, range) and report them in AWS's ValidationError wording;
- output structures with `ToXml` encoders in the model's member order, with `member` list wrapping;
- a unit type per operation implementing `Operation` (name, input, output, result wrapper);
- `OPERATIONS`, the list of every operation name (the compatibility checklist).
"""
import json
import keyword
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = [
    # (module, model file, echo values in validation messages)
    ("iam", "model/iam-2010-05-08.json", False),
    ("sts", "model/sts-2011-06-15.json", True),
]
RUST_KEYWORDS = set(
    "as break const continue crate else enum extern false fn for if impl in let loop match mod move mut "
    "pub ref return self static struct super trait true type unsafe use where while async await dyn "
    "abstract become box do final macro override priv typeof unsized virtual yield try".split()
)


# Required strings AWS writes even when empty (a tag's value may be "", as recorded).
KEEP_EMPTY = {("Tag", "Value")}

# Inputs whose members AWS validates in another order than the model lists them: the order of the
# messages of a multi-error ValidationError (as recorded). Members not named keep the model's order
# after the named ones.
VALIDATION_ORDER = {
    "UpdateAccountPasswordPolicyRequest": ["MinimumPasswordLength", "PasswordReusePrevention", "MaxPasswordAge"],
}


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
    if s in RUST_KEYWORDS:
        s += "_"
    return s


def lower_camel(name):
    return name[0].lower() + name[1:]


def type_name(shape):
    return shape[0].upper() + shape[1:]


def java_to_rust_regex(pat):
    """Translates a botocore (Java) pattern to a Rust regex matching the whole value.

    Java's \\w and \\d are ASCII-only; Rust's are Unicode, so they are spelled out. \\uXXXX becomes \\x{XXXX}.
    Returns (regex, extra_check) where extra_check names a Rust fn for what the regex crate cannot express.
    """
    extra = None
    if "(?!-)" in pat:  # account alias: no two hyphens in a row
        pat = pat.replace("-(?!-)", "-")
        extra = "no_double_hyphen"
    out = []
    i = 0
    in_class = False
    while i < len(pat):
        c = pat[i]
        if c == "\\" and i + 1 < len(pat):
            n = pat[i + 1]
            if n == "u":
                hexd = re.match(r"[0-9A-Fa-f]{4,5}", pat[i + 2 :]).group(0)
                # Java reads exactly four hex digits; a fifth belongs to the text (\u10000 = \u1000 '0').
                if len(hexd) == 5 and not in_class:
                    hexd = hexd[:4]
                if len(hexd) == 5:
                    # In the STS model, \u10000-\u10FFFF means the supplementary planes.
                    out.append("\\x{%s}" % hexd)
                else:
                    out.append("\\x{%s}" % hexd)
                i += 2 + len(hexd)
                continue
            if n == "w":
                out.append("a-zA-Z0-9_" if in_class else "[a-zA-Z0-9_]")
                i += 2
                continue
            if n == "d":
                out.append("0-9" if in_class else "[0-9]")
                i += 2
                continue
            out.append(pat[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    body = "".join(out)
    if body.startswith("^"):
        body = body[1:]
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    return "^(?:%s)$" % body, extra


class Gen:
    def __init__(self, module, path, echo):
        self.module = module
        self.model = json.load(open(os.path.join(ROOT, path)))
        self.shapes = self.model["shapes"]
        self.echo = echo
        self.patterns = {}  # pattern text -> static name
        self.str_rules = {}  # shape -> static name
        self.int_rules = {}
        self.len_rules = {}
        self.inputs = set()  # structure shapes decoded from params
        self.outputs = set()  # structure shapes encoded as XML
        self.out = []

    # ---- shape classification -------------------------------------------------------------
    def walk(self, shape, seen, into):
        if shape in seen:
            return
        s = self.shapes[shape]
        t = s["type"]
        if t == "structure":
            seen.add(shape)
            into.add(shape)
            for m in s.get("members", {}).values():
                self.walk(m["shape"], seen, into)
        elif t == "list":
            self.walk(s["member"]["shape"], seen, into)
        elif t == "map":
            self.walk(s["key"]["shape"], seen, into)
            self.walk(s["value"]["shape"], seen, into)

    def rust_type(self, shape):
        s = self.shapes[shape]
        t = s["type"]
        if t == "string":
            return "String"
        if t == "integer":
            return "i32"
        if t == "long":
            return "i64"
        if t == "boolean":
            return "bool"
        if t == "timestamp":
            return "time::OffsetDateTime"
        if t == "blob":
            return "Vec<u8>"
        if t == "structure":
            return type_name(shape)
        if t == "list":
            return "Vec<%s>" % self.rust_type(s["member"]["shape"])
        if t == "map":
            return "Vec<(String, %s)>" % self.rust_type(s["value"]["shape"])
        raise SystemExit("unsupported shape type %s (%s)" % (t, shape))

    # ---- constraint statics ---------------------------------------------------------------
    def str_rule(self, shape):
        if shape in self.str_rules:
            return self.str_rules[shape]
        s = self.shapes[shape]
        pat = "None"
        pat_text = s.get("pattern", "")
        extra = "None"
        if "pattern" in s:
            rx, ex = java_to_rust_regex(s["pattern"])
            if rx not in self.patterns:
                self.patterns[rx] = "PATTERN_%d" % len(self.patterns)
            pat = "Some(&%s)" % self.patterns[rx]
            if ex:
                extra = "Some(%s)" % ex
        enum = ", ".join(json.dumps(e) for e in s.get("enum", []))
        name = "STR_%s" % snake(shape).upper().strip("_")
        self.str_rules[shape] = name
        self.statics.append(
            "static %s: StrRule = StrRule { min: %s, max: %s, pattern: %s, pattern_text: %s, extra: %s, enumeration: &[%s] };"
            % (name, opt(s.get("min")), opt(s.get("max")), pat, rust_str(pat_text), extra, enum)
        )
        return name

    def int_rule(self, shape):
        if shape in self.int_rules:
            return self.int_rules[shape]
        s = self.shapes[shape]
        name = "INT_%s" % snake(shape).upper().strip("_")
        self.int_rules[shape] = name
        self.statics.append(
            "static %s: IntRule = IntRule { min: %s, max: %s };" % (name, opt(s.get("min")), opt(s.get("max")))
        )
        return name

    def len_rule(self, shape):
        if shape in self.len_rules:
            return self.len_rules[shape]
        s = self.shapes[shape]
        name = "LEN_%s" % snake(shape).upper().strip("_")
        self.len_rules[shape] = name
        self.statics.append(
            "static %s: LenRule = LenRule { min: %s, max: %s };" % (name, opt(s.get("min")), opt(s.get("max")))
        )
        return name

    # ---- Debug of structures with secrets ---------------------------------------------------
    def sensitive(self, shape):
        """The members of a structure whose shape the model marks `sensitive` (passwords, secret
        keys, private keys): its Debug shows them as `<redacted>`, so they never reach a log."""
        return [m for m, ms in self.shapes[shape].get("members", {}).items()
                if self.shapes[ms["shape"]].get("sensitive")]

    def derive(self, shape, default):
        """The derive line of a structure: Debug is written by hand when it holds secrets."""
        traits = ["Clone", "Default", "PartialEq"] if default else ["Clone", "PartialEq"]
        if not self.sensitive(shape):
            traits.insert(0, "Debug")
        return "#[derive(%s)]" % ", ".join(traits)

    def emit_redacted_debug(self, shape):
        secret = set(self.sensitive(shape))
        if not secret:
            return []
        s = self.shapes[shape]
        req = set(s.get("required", []))
        name = type_name(shape)
        lines = ["", "impl std::fmt::Debug for %s {" % name,
                 "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {",
                 "        f.debug_struct(%s)" % json.dumps(name)]
        for m in s.get("members", {}):
            f = snake(m)
            if m not in secret:
                val = "&self.%s" % f
            elif m in req:
                val = '&"<redacted>"'
            else:
                val = '&self.%s.as_ref().map(|_| "<redacted>")' % f
            lines.append("            .field(%s, %s)" % (json.dumps(f), val))
        lines += ["            .finish()", "    }", "}"]
        return lines

    # ---- decoding -------------------------------------------------------------------------
    def read_expr(self, shape, key, path):
        """Rust expression of type Option<T> reading `shape` at param key `key` (a &str expr)."""
        s = self.shapes[shape]
        t = s["type"]
        if t == "string":
            return "read_string(p, %s, %s, &%s, v)" % (key, path, self.str_rule(shape))
        if t in ("integer", "long"):
            return "read_int(p, %s, %s, &%s, v)" % (key, path, self.int_rule(shape))
        if t == "boolean":
            return "read_bool(p, %s, %s, v)" % (key, path)
        if t == "blob":
            return "read_blob(p, %s, %s, v)" % (key, path)
        if t == "timestamp":
            return "read_timestamp(p, %s, %s, v)" % (key, path)
        if t == "structure":
            return "p.has_prefix(&format!(\"{}.\", %s)).then(|| %s::from_params(p, %s, %s, v))" % (
                key,
                type_name(shape),
                key,
                path,
            )
        if t == "list":
            inner = self.read_expr(s["member"]["shape"], "k", "ip")
            return "read_list(p, %s, %s, &%s, v, |p, k, ip, v| %s)" % (key, path, self.len_rule(shape), inner)
        if t == "map":
            inner = self.read_expr(s["value"]["shape"], "k", "ip")
            return "read_map(p, %s, %s, &%s, v, |p, k, ip, v| %s)" % (key, path, self.len_rule(shape), inner)
        raise SystemExit("unsupported input type " + t)

    def emit_input(self, shape):
        s = self.shapes[shape]
        req = set(s.get("required", []))
        name = type_name(shape)
        lines = [self.derive(shape, True), "pub struct %s {" % name]
        for m, ms in s.get("members", {}).items():
            ty = self.rust_type(ms["shape"])
            if self.shapes[ms["shape"]]["type"] == "timestamp" and m in req:
                raise SystemExit("required timestamp input not supported: %s.%s" % (shape, m))
            lines.append("    pub %s: %s," % (snake(m), ty if m in req else "Option<%s>" % ty))
        lines.append("}")
        lines += self.emit_redacted_debug(shape)
        lines.append("")
        lines.append("impl FromParams for %s {" % name)
        members = s.get("members", {})
        args = "p: &Params, prefix: &str, path: &str, v: &mut Validator" if members else "_p: &Params, _prefix: &str, _path: &str, _v: &mut Validator"
        lines.append("    fn from_params(%s) -> Self {" % args)
        if not members:
            lines.append("        Self {}")
        else:
            lines.append("        Self {")
            first = VALIDATION_ORDER.get(shape, [])
            ordered = [(m, members[m]) for m in first] + [(m, ms) for m, ms in members.items() if m not in first]
            for m, ms in ordered:
                key = "&key(prefix, %s)" % json.dumps(m)
                path = "&vpath(path, %s)" % json.dumps(lower_camel(m))
                expr = self.read_expr(ms["shape"], key, path)
                if m in req:
                    lines.append("            %s: match %s {" % (snake(m), expr))
                    lines.append("                Some(x) => x,")
                    lines.append("                None => {")
                    lines.append("                    v.missing(%s);" % path)
                    lines.append("                    Default::default()")
                    lines.append("                }")
                    lines.append("            },")
                else:
                    lines.append("            %s: %s," % (snake(m), expr))
            lines.append("        }")
        lines.append("    }")
        lines.append("}")
        return "\n".join(lines)

    # ---- encoding -------------------------------------------------------------------------
    def write_stmt(self, shape, name_expr, val, indent):
        s = self.shapes[shape]
        t = s["type"]
        pad = " " * indent
        if t in ("string", "integer", "long", "boolean", "timestamp", "blob"):
            return pad + "write_scalar(w, %s, %s);" % (name_expr, val)
        if t == "structure":
            return pad + "write_struct(w, %s, %s);" % (name_expr, val)
        if t == "list":
            inner = self.write_stmt(s["member"]["shape"], '"member"', "x", 0)
            return pad + "write_list(w, %s, %s, |w, x| %s);" % (name_expr, val, inner.rstrip(";"))
        if t == "map":
            inner = self.write_stmt(s["value"]["shape"], '"value"', "x", 0)
            return pad + "write_map(w, %s, %s, |w, x| %s);" % (name_expr, val, inner.rstrip(";"))
        raise SystemExit("unsupported output type " + t)

    def emit_output(self, shape, derive_default):
        s = self.shapes[shape]
        req = set(s.get("required", []))
        name = type_name(shape)
        members = s.get("members", {})
        lines = []
        if shape not in self.inputs:
            lines.append(self.derive(shape, derive_default))
            lines.append("pub struct %s {" % name)
            for m, ms in members.items():
                ty = self.rust_type(ms["shape"])
                lines.append("    pub %s: %s," % (snake(m), ty if m in req else "Option<%s>" % ty))
            lines.append("}")
            lines += self.emit_redacted_debug(shape)
            lines.append("")
        lines.append("impl ToXml for %s {" % name)
        lines.append("    fn write_members(&self, %s: &mut XmlWriter) {" % ("w" if members else "_w"))
        for m, ms in members.items():
            f = snake(m)
            if m in req and self.shapes[ms["shape"]]["type"] == "string" and (shape, m) not in KEEP_EMPTY:
                # An empty required string is left out (the root user's GetUser has no UserName/Path).
                lines.append("        if !self.%s.is_empty() {" % f)
                lines.append(self.write_stmt(ms["shape"], json.dumps(m), "&self.%s" % f, 12))
                lines.append("        }")
            elif m in req:
                lines.append(self.write_stmt(ms["shape"], json.dumps(m), "&self.%s" % f, 8))
            else:
                lines.append("        if let Some(x) = &self.%s {" % f)
                lines.append(self.write_stmt(ms["shape"], json.dumps(m), "x", 12))
                lines.append("        }")
        lines.append("    }")
        lines.append("}")
        return "\n".join(lines)

    def has_timestamp_required(self, shape, seen=None):
        return False

    def generate(self):
        ops = self.model["operations"]
        for op in ops.values():
            if "input" in op:
                self.walk(op["input"]["shape"], set(), self.inputs)
        for op in ops.values():
            if "output" in op:
                self.walk(op["output"]["shape"], set(), self.outputs)
        self.statics = []
        inputs_code = [self.emit_input(sh) for sh in sorted(self.inputs)]
        outputs_code = []
        for sh in sorted(self.outputs):
            outputs_code.append(self.emit_output(sh, self.defaultable(sh)))
        op_code = []
        names = sorted(ops)
        for n in names:
            op = ops[n]
            inp = type_name(op["input"]["shape"]) if "input" in op else "()"
            out = type_name(op["output"]["shape"]) if "output" in op else "()"
            op_code.append(
                "/// `%s`\npub struct %s;\n\nimpl Operation for %s {\n    const NAME: &'static str = %s;\n"
                "    const HAS_RESULT: bool = %s;\n    type Input = %s;\n    type Output = %s;\n}"
                % (n, n, n, json.dumps(n), "true" if "output" in op else "false", inp, out)
            )
        arms = []
        for n in names:
            op = ops[n]
            if "input" in op:
                arms.append(
                    "        %s => {\n            %s::from_params(p, \"\", \"\", v);\n        }"
                    % (json.dumps(n), type_name(op["input"]["shape"]))
                )
            else:
                arms.append("        %s => {}" % json.dumps(n))
        op_code.append(
            "/// Decodes and validates the input of the operation `name` into `v`, as the dispatcher does\n"
            "/// before a handler runs (for fuzzing and tests); `false` when the model has no such operation.\n"
            "pub fn decode_input(name: &str, p: &Params, v: &mut Validator) -> bool {\n"
            "    match name {\n%s\n        _ => return false,\n    }\n    true\n}" % "\n".join(arms)
        )
        m = self.model["metadata"]
        hdr = [
            "// @generated by tools/codegen.py from %s. Do not edit by hand:" % [p for mod, p, _ in SERVICES if mod == self.module][0],
            "// change the generator and run `python3 tools/codegen.py`.",
            "#![allow(clippy::all, clippy::pedantic, unused_imports, dead_code, non_snake_case)]",
            "",
            "use std::sync::LazyLock;",
            "",
            "use regex::Regex;",
            "",
            "use crate::protocol::query::*;",
            "use crate::protocol::xml::*;",
            "use crate::protocol::Operation;",
            "",
            "/// The XML namespace of every response.",
            "pub const XMLNS: &str = %s;" % json.dumps(m["xmlNamespace"]),
            "/// The API version clients send as `Version`.",
            "pub const API_VERSION: &str = %s;" % json.dumps(m["apiVersion"]),
            "/// Whether validation messages quote the offending value.",
            "pub const ECHO_VALUES: bool = %s;" % ("true" if self.echo else "false"),
            "",
            "/// Every operation of the service model.",
            "pub const OPERATIONS: &[&str] = &[",
        ]
        hdr += ["    %s," % json.dumps(n) for n in names]
        hdr += ["];", ""]
        pats = ["static %s: LazyLock<Regex> = LazyLock::new(|| Regex::new(%s).expect(\"model pattern\"));" % (v, rust_str(k)) for k, v in sorted(self.patterns.items(), key=lambda kv: int(kv[1].split("_")[1]))]
        extra = [
            "",
            "fn no_double_hyphen(s: &str) -> bool {",
            "    !s.contains(\"--\")",
            "}",
        ]
        body = (
            hdr
            + ["// ---- constraints ----", ""]
            + pats
            + extra
            + [""]
            + self.statics
            + ["", "// ---- input shapes ----", ""]
            + [c + "\n" for c in inputs_code]
            + ["// ---- output shapes ----", ""]
            + [c + "\n" for c in outputs_code]
            + ["// ---- operations ----", ""]
            + [c + "\n" for c in op_code]
        )
        return "\n".join(body).rstrip() + "\n"

    def defaultable(self, shape, seen=None):
        """Output structs derive Default unless they (transitively) hold a required timestamp."""
        seen = seen or set()
        if shape in seen:
            return True
        seen.add(shape)
        s = self.shapes[shape]
        req = set(s.get("required", []))
        for m, ms in s.get("members", {}).items():
            t = self.shapes[ms["shape"]]["type"]
            if t == "timestamp" and m in req:
                return False
            if t == "structure" and m in req and not self.defaultable(ms["shape"], seen):
                return False
        return True


def opt(v):
    return "None" if v is None else "Some(%d)" % v


def rust_str(s):
    if '"#' not in s:
        return 'r#"%s"#' % s
    return json.dumps(s)


def main():
    check = "--check" in sys.argv
    stale = []
    for module, path, echo in SERVICES:
        code = Gen(module, path, echo).generate()
        target = os.path.join(ROOT, "src/protocol/generated/%s.rs" % module)
        old = open(target).read() if os.path.exists(target) else None
        if check:
            if old != code:
                stale.append(target)
        elif old != code:
            with open(target, "w") as f:
                f.write(code)
    if check and stale:
        print("generated code is stale: run `python3 tools/codegen.py`: " + ", ".join(stale))
        sys.exit(1)


if __name__ == "__main__":
    main()
