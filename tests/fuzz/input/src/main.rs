//! Writes the seed corpora of the fuzz targets into `tests/fuzz/seeds/<target>/`: the repo's
//! experiment configs with a few environment variables and `--set` arguments, the experiment
//! scripts, and plugin descriptors of every kind (well-formed ones, and ones a single field
//! breaks). Rerun it when an input type or an experiment changes:
//! `cargo run --manifest-path tests/fuzz/input/Cargo.toml`.

use std::fs;
use std::path::{Path, PathBuf};

use runner_fuzz_input::encode::encode;
use runner_fuzz_input::{AbiArray, AbiStr, ConfigInput, DescriptorInput, ParamInput, PluginInput, TableInput};

fn main() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let repo = fuzz.parent().unwrap().parent().unwrap().to_path_buf();
    let seeds = fuzz.join("seeds");
    let experiments = |ext: &str| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(repo.join("experiments"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        files.sort();
        files
    };

    let dir = fresh(&seeds.join("config"));
    let tomls: Vec<(String, String)> =
        experiments("toml").iter().map(|p| (stem(p), fs::read_to_string(p).unwrap())).collect();
    let sets = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let env = |e: &[(&str, &str)]| e.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    for (name, text) in &tomls {
        let input = ConfigInput { env: vec![], sets: vec![], runner_toml: None, loaded_toml: text.clone() };
        fs::write(dir.join(format!("{name}.bin")), encode(&input)).unwrap();
        let input = ConfigInput {
            env: env(&[("TRAIN__STEPS", "100"), ("SEED", "3")]),
            sets: sets(&["train.lr=3e-4", "eval.metrics=[\"w2\"]", "data.target_params.k=3"]),
            runner_toml: Some(text.clone()),
            loaded_toml: tomls[0].1.clone(),
        };
        fs::write(dir.join(format!("{name}-layered.bin")), encode(&input)).unwrap();
    }
    let layers: &[(&str, Vec<(String, String)>, Vec<String>)] = &[
        ("sets", vec![], sets(&["train.lr=3e-4", "model.width=128", "data.target=moons", "launcher.kind=inline"])),
        ("bad-set", vec![], sets(&["train.lr=fast", "eval.size"])),
        ("out-of-range", vec![], sets(&["train.ema_decay=1", "launcher.slurm.poll_seconds=0"])),
        ("env", env(&[("TRAIN__LR", "1e-4"), ("EVAL__T_END", "0.5"), ("OS", "Linux")]), vec![]),
        ("tables", vec![], sets(&["path.schedule_params={ k = 2.5 }", "launcher.slurm.extra=[\"--qos=long\"]"])),
    ];
    for (name, env, sets) in layers {
        let input = ConfigInput { env: env.clone(), sets: sets.clone(), runner_toml: None, loaded_toml: String::new() };
        fs::write(dir.join(format!("{name}.bin")), encode(&input)).unwrap();
    }

    let dir = fresh(&seeds.join("script"));
    for script in experiments("rhai") {
        fs::copy(&script, dir.join(script.file_name().unwrap())).unwrap();
    }
    // A dry run that gets as far as declaring trials and evaluations with no config file.
    let small = "let s = sweep(\"seed\");\nlet t = s.trial(#{ seed: 1, \"data.target\": \"moons\" });\n\
                 t.evaluate(\"euler\", 4);\nt.evaluate(#{ solver: \"heun\", nfe: 8 });\ns.reference(#{});\n\
                 print(grid(#{ a: [1, 2], b: 3 }));\nprint(plugin_names(\"solver\"));\n";
    fs::write(dir.join("small.rhai"), small).unwrap();

    let dir = fresh(&seeds.join("descriptor"));
    let every_kind = DescriptorInput {
        plugins: array((1..=6).map(|kind| plugin(kind, &format!("fuzz-{kind}"))).collect()),
        ..library(vec![])
    };
    let mut inputs = vec![
        ("every-kind".to_string(), every_kind.clone()),
        ("empty".to_string(), library(vec![])),
        ("null".to_string(), DescriptorInput { null: true, ..library(vec![]) }),
        ("small-descriptor".to_string(), DescriptorInput { size: Some(8), ..every_kind.clone() }),
    ];
    let mut broken = |name: &str, f: &dyn Fn(&mut PluginInput)| {
        let mut input = every_kind.clone();
        f(&mut input.plugins.items[2]);
        inputs.push((name.to_string(), input));
    };
    broken("small-table", &|p| p.table.as_mut().unwrap().size = Some(16));
    broken("no-info", &|p| p.table.as_mut().unwrap().functions = 0b1011);
    broken("null-table", &|p| p.table = None);
    broken("bad-kind", &|p| p.kind = 7);
    broken("small-record", &|p| p.size = Some(8));
    broken("not-utf8", &|p| p.name.bytes = vec![b'r', 0xff, b'k']);
    broken("short-name", &|p| p.name.len = Some(2));
    broken("builtin-name", &|p| p.name = text("rk4"));
    broken("bad-param", &|p| p.params.items[0].kind = 9);
    for (name, input) in inputs {
        fs::write(dir.join(format!("{name}.bin")), encode(&input)).unwrap();
    }
}

/// An empty directory at `dir`.
fn fresh(dir: &Path) -> PathBuf {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    dir.to_path_buf()
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

fn text(s: &str) -> AbiStr {
    AbiStr { bytes: s.as_bytes().to_vec(), null: false, len: None }
}

fn array<T>(items: Vec<T>) -> AbiArray<T> {
    AbiArray { items, null: false, count: None }
}

fn library(plugins: Vec<PluginInput>) -> DescriptorInput {
    DescriptorInput {
        null: false,
        size: None,
        name: text("fuzz-plugins"),
        version: text("0.1.0"),
        create_status: 1,
        create_message_len: None,
        plugins: array(plugins),
    }
}

/// A plugin of `kind` with one parameter of each type and every function of its table.
fn plugin(kind: u32, name: &str) -> PluginInput {
    let param = |kind: u32, name: &str| ParamInput {
        name: text(name),
        help: text("what it does"),
        kind,
        boolean: 1,
        float: 0.5,
        int: 3,
        string: text("default"),
    };
    PluginInput {
        size: None,
        kind,
        name: text(name),
        summary: text("a plugin the fuzz harness describes"),
        params: array(vec![param(1, "k"), param(2, "n"), param(3, "flag"), param(4, "label")]),
        table: Some(TableInput { size: None, functions: u16::MAX }),
    }
}
