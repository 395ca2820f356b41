//! The line an error points at, shown under its message: `file:line:column` alone makes the
//! reader open the file; the line itself, with a caret under the column, usually suffices.

use std::fmt::Write as _;
use std::path::Path;

/// Line `line` (from 1) of `text` with a caret under `column` (from 1, in characters), as
/// indented lines to put under a message; empty where the text has no such line.
pub fn excerpt(text: &str, line: usize, column: Option<usize>) -> String {
    let Some(source) = line.checked_sub(1).and_then(|i| text.lines().nth(i)) else { return String::new() };
    let gutter = line.to_string();
    let pad = " ".repeat(gutter.len());
    let mut out = format!("\n  {pad} |\n  {gutter} | {source}");
    if let Some(column) = column.filter(|&c| c >= 1) {
        // Tabs keep their width so that the caret stands under the column it names.
        let lead: String = source.chars().take(column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        let _ = write!(out, "\n  {pad} | {lead}^");
    }
    out
}

/// 1-based line and column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The excerpt of a location that ends in `path:line` or `path:line:column` (as config
/// sources and script positions are written), read from that file; empty where the location
/// names no readable file.
pub fn file_excerpt(location: &str) -> String {
    let Some(token) = location.split_whitespace().last() else { return String::new() };
    let Some((head, last)) = token.rsplit_once(':') else { return String::new() };
    let Ok(last) = last.parse::<usize>() else { return String::new() };
    let (path, line, column) = match head.rsplit_once(':').map(|(p, l)| (p, l.parse::<usize>())) {
        Some((path, Ok(line))) => (path, line, Some(last)),
        _ => (head, last, None),
    };
    match std::fs::read_to_string(Path::new(path)) {
        Ok(text) => excerpt(&text, line, column),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excerpt_shows_the_line_with_a_caret_under_the_column() {
        let text = "[train]\nsteps = 10\nlr = \"fast\"\n";
        assert_eq!(excerpt(text, 3, Some(6)), "\n    |\n  3 | lr = \"fast\"\n    |      ^");
        assert_eq!(excerpt(text, 2, None), "\n    |\n  2 | steps = 10");
        assert_eq!(excerpt(text, 9, Some(1)), "");
        assert_eq!(line_column(text, 24), (3, 6));
        assert_eq!(line_column(text, 0), (1, 1));
    }
}
