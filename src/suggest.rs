//! "Did you mean …?": the known name closest to a misspelt one, for error messages.

/// The candidate nearest to `name` in edit distance (insertions, deletions, substitutions and
/// swaps of neighbours, case ignored), if it is near enough to be a slip of the keyboard: at
/// most a third of the name's length, and at least one edit.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` where a candidate is close, else nothing: the tail of a message.
pub fn hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default()
}

/// Optimal string alignment distance.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_of_the_keyboard_find_their_name_and_strangers_none() {
        let known = ["cond-ot", "cosine", "vp", "ddpm-linear"];
        assert_eq!(closest("cosin", known), Some("cosine"));
        assert_eq!(closest("ocsine", known), Some("cosine"));
        assert_eq!(closest("ddpm-liner", known), Some("ddpm-linear"));
        assert_eq!(closest("Cosine", known), Some("cosine"));
        assert_eq!(closest("banana", known), None);
        assert_eq!(hint("vq", known), "; did you mean `vp`?");
    }
}
