//! The JSON output schema (`docs/schema/xacct-output-v1.json`): every
//! `--format json` the tests produce is validated against it.

use std::sync::OnceLock;

use serde_json::Value;

/// The compiled schema (the committed file, not a copy).
pub fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = crate::repo().join("docs/schema/xacct-output-v1.json");
        let schema: Value = serde_json::from_str(&crate::read(&path)).unwrap();
        jsonschema::draft202012::new(&schema)
            .unwrap_or_else(|e| panic!("{} is not a valid JSON Schema: {e}", path.display()))
    })
}

/// The schema's errors for `v` (empty: valid).
pub fn errors(v: &Value) -> Vec<String> {
    validator()
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Panics unless `v` is valid and is the envelope of `command`.
pub fn check(command: &str, v: &Value) {
    let errors = errors(v);
    assert!(errors.is_empty(), "{command}: {errors:#?}\n{v:#}");
    assert_eq!(v["command"], command, "{v:#}");
    assert_eq!(v["schema_version"], 1, "{v:#}");
}

/// For a finished `xacct` run: when it was `--format json` and did not fail
/// with a usage error (exit 2), stdout must be exactly one envelope of the
/// subcommand, valid, whose `summary.exit_code` is the process's exit code.
pub fn check_run(args: &[&str], code: i32, stdout: &str) {
    let json = args.windows(2).any(|w| w == ["--format", "json"]);
    if !json || code == 2 {
        return;
    }
    let command = args.first().copied().unwrap_or_default();
    let v: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON value ({e}):\n{stdout}"));
    check(command, &v);
    assert_eq!(
        v["summary"]["exit_code"], code,
        "{args:?}: summary.exit_code is not the exit code\n{v:#}"
    );
}
