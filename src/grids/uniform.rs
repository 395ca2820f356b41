//! `uniform`: equally spaced times.

use runner_sdk::{ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule, TimeGrid};

use crate::registry::Entry;

const NAME: &str = "uniform";

/// `steps + 1` equally spaced times; the ends are exactly `t_start` and `t_end`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Uniform;

impl TimeGrid for Uniform {
    fn times(&self, steps: usize, t_start: f64, t_end: f64, _: &dyn Schedule) -> Result<Vec<f64>, PluginError> {
        super::check_span(NAME, steps, t_start, t_end)?;
        let n = steps as f64;
        // The two-sided lerp lands exactly on both ends, so a grid to t_end = 1 reaches 1.
        Ok((0..=steps)
            .map(|i| {
                let w = i as f64 / n;
                t_start * (1.0 - w) + t_end * w
            })
            .collect())
    }
}

const PARAMS: &[ParamSpec] = &[];

fn make(_: &Params) -> Result<Box<dyn TimeGrid>, PluginError> {
    Ok(Box::new(Uniform))
}

pub const ENTRY: Entry<dyn TimeGrid> = Entry {
    info: PluginInfo::new(PluginKind::Grid, NAME, "steps + 1 equally spaced times from t_start to t_end", PARAMS),
    make,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedules::cond_ot::CondOt;

    #[test]
    fn equal_spacing_with_exact_ends() {
        let t = Uniform.times(1000, 0.0, 1.0, &CondOt).unwrap();
        assert_eq!(t.len(), 1001);
        assert_eq!((t[0], t[1000]), (0.0, 1.0));
        assert_eq!(t[250], 0.25);
        let t = Uniform.times(7, 0.1, 0.9, &CondOt).unwrap();
        assert_eq!((t[0], t[7]), (0.1, 0.9));
        for w in t.windows(2) {
            assert!((w[1] - w[0] - 0.8 / 7.0).abs() < 1e-15);
        }
    }

    #[test]
    fn empty_or_backwards_spans_are_refused() {
        assert!(Uniform.times(0, 0.0, 1.0, &CondOt).is_err());
        assert!(Uniform.times(4, 0.5, 0.5, &CondOt).is_err());
        assert!(Uniform.times(4, 0.9, 0.1, &CondOt).is_err());
        assert!(Uniform.times(4, 0.0, f64::NAN, &CondOt).is_err());
        assert!(Uniform.times(4, -0.1, 1.0, &CondOt).is_err());
        assert!(Uniform.times(4, 0.0, 1.5, &CondOt).is_err());
    }
}
