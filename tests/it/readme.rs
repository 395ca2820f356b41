//! Every rhai example in README.md runs (on tiny settings set from the top config layer).

use std::path::{Path, PathBuf};

use runner::config::Layers;
use runner::script;

fn rhai_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```rhai") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.push(current.take().unwrap()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn readme_scripts_run() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks = rhai_blocks(&readme);
    assert!(!blocks.is_empty(), "README.md has no rhai example");
    for (i, block) in blocks.iter().enumerate() {
        let out = tempfile::tempdir().unwrap();
        let mut layers = Layers::new();
        layers
            .set_args(&[
                format!("out={:?}", out.path().display().to_string()),
                "train.steps=20".into(),
                "eval.size=128".into(),
            ])
            .unwrap();
        let session = crate::common::session(PathBuf::from(format!("README.md block {}", i + 1)), layers);
        script::run_source(session, block).unwrap_or_else(|e| panic!("README rhai block {}: {e}\n{block}", i + 1));
    }
}

/// Every image the README shows is a file of the repository (the report's committed plots).
#[test]
fn readme_images_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let images: Vec<&str> =
        readme.split("](").skip(1).filter_map(|s| s.split(')').next()).filter(|l| l.ends_with(".png")).collect();
    assert!(!images.is_empty(), "README.md shows no plot");
    for image in images {
        let file = root.join(image);
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("README image {image}: {e}"));
        assert!(bytes.starts_with(b"\x89PNG"), "{image} is not a PNG");
    }
}
