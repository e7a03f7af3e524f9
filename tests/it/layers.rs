//! The architecture, read from the code's own import lines so it stays true:
//! the top-level modules of `src/` form layers, every import points down a
//! layer (so there is no import circle between them), and the simulators'
//! crate cannot see the product. Test code (`tests.rs` files and
//! `#[cfg(test)] mod tests` blocks) may reach across: a test of a channel's
//! client drives the simulator through ordersync's glue.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import only from a lower layer.
const LAYERS: &[&[&str]] = &[
    // The floor: pure types and rules, files, text.
    &["domain", "text_encoding", "spreadsheet", "private_files"],
    // Metrics that only record, heartbeats, what every config section is
    // made of, the product master's types.
    &["metrics", "heartbeat", "config", "catalog"],
    // The merchant's words for what is stored under engineers' names.
    &["wording"],
    // Pure decisions; the invoice's numbers.
    &["engine", "invoice"],
    // SQLite.
    &["store"],
    // The call contract, the ERP's files.
    &["call", "inventory_import", "orders_export"],
    // Channel-wide problems (a call's refusal, shown until it clears).
    &["problems"],
    // What a background worker is.
    &["worker"],
    // The providers, and the dispatcher that names none of them.
    &["providers", "outbox"],
    // The config file as a whole, the cross-channel flows.
    &["config_file", "flows"],
    // The status summary, what a reload may change, ordersync's side of the
    // simulators (`ordersync sim` prints config sections and credentials).
    &["status", "reload", "sim", "carrier_files"],
    // What the operator and the network see.
    &["alerts", "http", "systemd", "logging"],
    // The daemon's wiring.
    &["app"],
    &["demo", "untrusted"],
    &["cli"],
];

/// Imports the issue of the architecture names one by one, checked on their
/// own so the message says which rule broke.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("domain", &["providers"]),
    ("engine", &["providers"]),
    ("store", &["providers", "http", "alerts"]),
    ("providers", &["http", "alerts", "status", "app", "cli"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`lib`/`main` for the
/// crate root).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_string()
}

/// The code of a file without its comments and its test module.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            // `//` inside a string ("http://") is rare in import lines;
            // cutting there only drops text, never adds an import.
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every top-level module `code` names through a `crate::` path.
fn imports_of(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let preceded_by_ident = rest[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name.is_empty() && !preceded_by_ident {
            found.insert(name);
        }
        rest = after;
    }
    found
}

/// Module → the modules it imports, with the files that do it.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let from = module_of(&file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        for to in imports_of(&code_of(&text)) {
            if to != from {
                let shown = file.strip_prefix(src()).expect("under src").display();
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_default()
                    .insert(shown.to_string());
            }
        }
    }
    graph
}

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` has no layer: add it to LAYERS"))
}

#[test]
fn every_import_between_top_level_modules_points_down_a_layer() {
    let graph = graph();
    let mut upward = Vec::new();
    for (from, targets) in &graph {
        for (to, files) in targets {
            if layer_of(to) >= layer_of(from) {
                upward.push(format!("{from} -> {to} ({files:?})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that do not point down a layer:\n{}",
        upward.join("\n")
    );
    // Every module of src/ is in a layer, and every layer module exists.
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    for module in &modules {
        layer_of(module);
    }
    for layer in LAYERS {
        for module in *layer {
            assert!(
                modules.contains(*module),
                "LAYERS names `{module}`, which is gone"
            );
        }
    }
}

#[test]
fn the_named_rules_hold() {
    let graph = graph();
    for (from, never) in FORBIDDEN {
        for to in *never {
            let files = graph.get(*from).and_then(|t| t.get(*to));
            assert!(files.is_none(), "{from} imports {to}: {files:?}");
        }
    }
    // Metrics only record: they import nothing but the names of providers
    // and channels.
    let metrics: Vec<&String> = graph
        .get("metrics")
        .map(|t| t.keys().collect())
        .unwrap_or_default();
    assert!(
        metrics.iter().all(|m| *m == "domain"),
        "metrics imports {metrics:?}"
    );
}

#[test]
fn the_simulators_cannot_see_the_product() {
    let sim = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim");
    let manifest = std::fs::read_to_string(sim.join("Cargo.toml")).expect("sim/Cargo.toml");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("a [dependencies] table");
    assert!(
        !dependencies
            .lines()
            .any(|l| l.trim_start().starts_with("ordersync ")
                || l.trim_start().starts_with("ordersync=")),
        "ordersync-sim depends on ordersync"
    );
    let mut files = Vec::new();
    rust_files(&sim.join("src"), &mut files);
    assert!(files.len() > 20, "the simulators' sources are found");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        assert!(
            !code_of(&text).contains("ordersync::"),
            "{} names the product crate",
            file.display()
        );
    }
}

#[test]
fn the_import_reader_finds_crate_paths_and_skips_comments() {
    let code = code_of(
        "use crate::store::{self, Store};\n\
         // see crate::http\n\
         fn f() { crate::domain::time::now(); my_crate::x(); }\n\
         #[cfg(test)]\nmod tests {\n    use crate::cli;\n}\n",
    );
    let found: Vec<String> = imports_of(&code).into_iter().collect();
    assert_eq!(found, ["domain", "store"]);
}
