//! The two READMEs say the same things: every command and config key named
//! in one is named in the other, and each names only real ones.

use std::collections::BTreeSet;

use clap::CommandFactory;

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The text inside backticks and fenced code blocks: where a README names
/// a command or a key (prose may use the same words in passing).
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || line.starts_with("    ") {
            spans.push(line.to_string());
            continue;
        }
        spans.extend(line.split('`').skip(1).step_by(2).map(str::to_string));
    }
    spans
}

/// `ordersync <command> [<subcommand>]` as clap knows them, from the spans.
fn commands(text: &str) -> BTreeSet<String> {
    let cli = ordersync::cli::Cli::command();
    let mut found = BTreeSet::new();
    for span in code_spans(text) {
        let words: Vec<&str> = span.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if !w.ends_with("ordersync") {
                continue;
            }
            // Global flags may come first: `ordersync --config X status`.
            let mut rest = words[i + 1..].iter().copied().peekable();
            while let Some(flag) = rest.peek().copied().filter(|w| w.starts_with("--")) {
                rest.next();
                if !flag.contains('=') {
                    rest.next();
                }
            }
            let Some(first) = rest.next() else { continue };
            let Some(cmd) = cli.find_subcommand(first) else {
                continue;
            };
            match rest.next().and_then(|w| cmd.find_subcommand(w)) {
                Some(sub) => found.insert(format!("{first} {}", sub.get_name())),
                // A group named without its command (a line break) names nothing.
                None if cmd.has_subcommands() => continue,
                None => found.insert(first.to_string()),
            };
        }
    }
    found
}

/// Every key of `config.example.toml` (which documents them all, commented
/// ones included) as `section.key`.
fn config_keys() -> BTreeSet<(String, String)> {
    config_keys_of("config.example.toml")
}

/// Every key an example config documents, commented ones included.
fn config_keys_of(example: &str) -> BTreeSet<(String, String)> {
    let mut keys = BTreeSet::new();
    let mut section = String::new();
    for line in read(example).lines() {
        let line = line.strip_prefix("# ").unwrap_or(line).trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            section = name.trim_start_matches('[').to_string();
        } else if let Some((key, _)) = line.split_once(" = ")
            && !key.is_empty()
            && !section.is_empty()
            && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            keys.insert((section.clone(), key.to_string()));
        }
    }
    keys
}

/// The config keys a README names: `key` alone in a span, `key = …`, or
/// `section.key` / `[section] key`.
fn keys_named(text: &str) -> BTreeSet<String> {
    let spans = code_spans(text);
    config_keys()
        .into_iter()
        .filter(|(section, key)| {
            spans.iter().any(|s| {
                let s = s.trim();
                s == key
                    || s.starts_with(&format!("{key} ="))
                    || s.contains(&format!("{section}.{key}"))
                    || s.contains(&format!("[{section}] {key}"))
                    || s.starts_with(&format!("{key} = "))
            })
        })
        .map(|(section, key)| format!("{section}.{key}"))
        .collect()
}

#[test]
fn both_readmes_name_the_same_commands_and_keys() {
    let (en, ja) = (read("README.md"), read("README.ja.md"));
    let (en_cmds, ja_cmds) = (commands(&en), commands(&ja));
    assert!(en_cmds.len() > 10, "{en_cmds:?}");
    let only_en: Vec<_> = en_cmds.difference(&ja_cmds).collect();
    let only_ja: Vec<_> = ja_cmds.difference(&en_cmds).collect();
    assert!(
        only_en.is_empty() && only_ja.is_empty(),
        "commands only in README.md: {only_en:?}; only in README.ja.md: {only_ja:?}"
    );
    let (en_keys, ja_keys) = (keys_named(&en), keys_named(&ja));
    assert!(en_keys.len() > 20, "{en_keys:?}");
    let only_en: Vec<_> = en_keys.difference(&ja_keys).collect();
    let only_ja: Vec<_> = ja_keys.difference(&en_keys).collect();
    assert!(
        only_en.is_empty() && only_ja.is_empty(),
        "keys only in README.md: {only_en:?}; only in README.ja.md: {only_ja:?}"
    );
}

#[test]
fn the_english_readme_points_at_the_japanese_one_on_its_first_screen() {
    let first_screen: String = read("README.md").lines().take(24).collect();
    assert!(first_screen.contains("README.ja.md"), "{first_screen}");
    let ja: String = read("README.ja.md").lines().take(24).collect();
    assert!(ja.contains("README.md"), "{ja}");
}

/// The installed example (Japanese) documents the keys the English one does: a key
/// added to one only is named here.
#[test]
fn the_japanese_example_documents_every_key_of_the_english_one() {
    let (en, ja) = (config_keys(), config_keys_of("config.example.ja.toml"));
    assert!(en.len() > 50, "{en:?}");
    let only_en: Vec<_> = en.difference(&ja).collect();
    let only_ja: Vec<_> = ja.difference(&en).collect();
    assert!(
        only_en.is_empty() && only_ja.is_empty(),
        "keys only in config.example.toml: {only_en:?}; only in config.example.ja.toml: {only_ja:?}"
    );
}

/// The package installs the Japanese example as the config (the operator reads Japanese)
/// and keeps both examples beside the documentation; every file it names exists.
#[test]
fn the_package_installs_the_japanese_config_and_keeps_both_examples() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml");
    let deb = &manifest["package"]["metadata"]["deb"];
    let assets: Vec<(&str, &str)> = deb["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|asset| {
            (
                asset[0].as_str().expect("source"),
                asset[1].as_str().expect("target"),
            )
        })
        .collect();
    let sources_of = |target: &str| -> Vec<&str> {
        assets
            .iter()
            .filter(|(_, t)| *t == target)
            .map(|(source, _)| *source)
            .collect()
    };
    assert_eq!(
        sources_of("etc/ordersync/config.toml"),
        ["config.example.ja.toml"]
    );
    let examples = "usr/share/doc/ordersync/examples";
    for example in ["config.example.toml", "config.example.ja.toml"] {
        assert_eq!(sources_of(&format!("{examples}/{example}")), [example]);
    }
    let conf_files = deb["conf-files"].as_array().expect("conf-files");
    assert!(
        conf_files
            .iter()
            .any(|f| f.as_str() == Some("/etc/ordersync/config.toml"))
    );
    for (source, _) in assets.iter().filter(|(s, _)| !s.starts_with("target/")) {
        let path = format!("{}/{source}", env!("CARGO_MANIFEST_DIR"));
        assert!(std::path::Path::new(&path).is_file(), "{source} missing");
    }
}
