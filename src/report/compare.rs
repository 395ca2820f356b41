//! `runner compare`: the settings that differ between the trials of one or more sweeps, and
//! every metric's mean ± std (n) over seeds for each of their combinations, as a text table.

use std::fmt::Write as _;

use super::aggregate::{aggregate, differing, Aggregation, Group};
use super::results::SweepResults;
use crate::sweep::metric_columns;

/// The comparison as text: the differing settings, then the table. Grouping keys are checked
/// first ([`super::aggregate::check`]).
pub fn compare(sweeps: &[SweepResults], how: &Aggregation) -> Result<String, String> {
    super::aggregate::check(sweeps, how)?;
    let mut out = String::new();
    let names: Vec<String> = sweeps.iter().map(|s| format!("{} ({})", s.name, s.dir.display())).collect();
    let _ = writeln!(out, "sweeps: {}", names.join(", "));
    let differ = differing(sweeps);
    if differ.is_empty() {
        let _ = writeln!(out, "no setting differs between the trials");
    } else {
        let _ = writeln!(out, "settings that differ between trials:");
        let width = differ.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (key, values) in &differ {
            let _ = writeln!(out, "  {key:width$}  {}", values.join(", "));
        }
    }
    let groups = aggregate(sweeps, how);
    let _ = writeln!(out, "\nmean ± std (n) over `{}`:", how.over);
    out.push_str(&table(&groups));
    Ok(out)
}

/// One line per group: its key values, solver and NFE, then a cell per metric.
pub fn table(groups: &[Group]) -> String {
    let rows: Vec<_> = groups.iter().map(|g| g.metrics.keys().cloned().collect::<Vec<_>>()).collect();
    let mut metrics: Vec<String> =
        metric_columns(&[]).into_iter().filter(|m| rows.iter().any(|r| r.contains(m))).collect();
    for names in &rows {
        for m in names {
            if !metrics.contains(m) {
                metrics.push(m.clone());
            }
        }
    }
    let mut header: Vec<String> =
        groups.first().map(|g| g.key.iter().map(|(k, _)| k.clone()).collect()).unwrap_or_default();
    header.extend(["solver".to_string(), "nfe".to_string()]);
    header.extend(metrics.iter().cloned());
    let mut lines: Vec<Vec<String>> = vec![header];
    for g in groups {
        let mut cells: Vec<String> = g.key.iter().map(|(_, v)| v.clone()).collect();
        cells.push(g.solver.clone());
        cells.push(g.nfe.to_string());
        for m in &metrics {
            cells.push(match g.metrics.get(m) {
                Some(s) => match s.std {
                    Some(std) => format!("{} ± {} ({})", significant(s.mean), significant(std), s.n),
                    None => format!("{} ({})", significant(s.mean), s.n),
                },
                None => String::new(),
            });
        }
        lines.push(cells);
    }
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| lines.iter().filter_map(|l| l.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// Four significant digits, in plain or scientific notation, whichever a reader takes in faster.
pub fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    if (-3..5).contains(&magnitude) {
        format!("{v:.*}", (3 - magnitude).max(0) as usize)
    } else {
        format!("{v:.3e}")
    }
}
