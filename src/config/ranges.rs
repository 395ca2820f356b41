//! The values each key may take, checked before any work: a negative learning rate, an empty
//! evaluation set or a misspelt optimizer is refused where it was set, not found hours later as
//! a diverged training, a metric of no points or a failed trial.
//!
//! Names of plugins are checked when they are built; these are the names the config itself
//! defines.

use super::{ConfigError, Resolved};
use crate::models::{Activation, TimeFeatures};
use crate::suggest::hint;
use crate::train::OPTIMIZERS;

impl Resolved {
    /// Refuse a numeric setting outside its range, naming the key, its value and its source.
    pub fn check_ranges(&self) -> Result<(), ConfigError> {
        let c = &self.config;
        let t = &c.train;
        let positive = |key: &str, v: f64| -> Result<(), ConfigError> {
            match v.is_finite() && v > 0.0 {
                true => Ok(()),
                false => Err(self.key_error(key, format!("must be a finite number above 0, got {v}"))),
            }
        };
        let at_least_one = |key: &str, v: usize| -> Result<(), ConfigError> {
            match v >= 1 {
                true => Ok(()),
                false => Err(self.key_error(key, "must be at least 1, got 0")),
            }
        };
        positive("train.lr", t.lr)?;
        if !(t.weight_decay.is_finite() && t.weight_decay >= 0.0) {
            return Err(
                self.key_error("train.weight_decay", format!("must be a finite number ≥ 0, got {}", t.weight_decay))
            );
        }
        if !(0.0..1.0).contains(&t.ema_decay) {
            let why = format!("must be in [0, 1) (0 turns the average off), got {}", t.ema_decay);
            return Err(self.key_error("train.ema_decay", why));
        }
        at_least_one("train.steps", t.steps)?;
        at_least_one("train.batch_size", t.batch_size)?;
        at_least_one("train.log_every", t.log_every)?;
        if t.val_size > 0 {
            at_least_one("train.val_every", t.val_every)?;
        }
        if t.reflow > 0 {
            at_least_one("train.reflow_pairs", t.reflow_pairs)?;
            at_least_one("train.reflow_nfe", t.reflow_nfe)?;
        }
        at_least_one("model.width", c.model.width)?;
        let e = &c.eval;
        at_least_one("eval.size", e.size)?;
        at_least_one("eval.reference_nfe", e.reference_nfe)?;
        at_least_one("eval.reference_points", e.reference_points)?;
        at_least_one("eval.nll_points", e.nll_points)?;
        at_least_one("eval.nll_nfe", e.nll_nfe)?;
        positive("launcher.slurm.poll_seconds", c.launcher.slurm.poll_seconds)?;
        at_least_one("model.depth", c.model.depth)?;
        let one_of = |key: &str, what: &str, value: &str, known: &[&str]| -> Result<(), ConfigError> {
            match known.contains(&value) {
                true => Ok(()),
                false => Err(self.key_error(
                    key,
                    format!(
                        "unknown {what} `{value}`{}; known: {}",
                        hint(value, known.iter().copied()),
                        known.join(", ")
                    ),
                )),
            }
        };
        one_of("train.optimizer", "optimizer", &t.optimizer, &OPTIMIZERS)?;
        one_of("model.activation", "activation", &c.model.activation, &Activation::NAMES)?;
        one_of("model.time_features", "time features", &c.model.time_features, &TimeFeatures::NAMES)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Layers;

    fn refused(set: &str) -> String {
        let mut layers = Layers::new();
        layers.set_args(&[set.to_string()]).unwrap();
        layers.resolve(&[]).unwrap().check_ranges().unwrap_err().to_string()
    }

    #[test]
    fn out_of_range_values_are_refused_naming_key_value_and_source() {
        for (set, key, value) in [
            ("train.lr=-1", "train.lr", "-1"),
            ("train.lr=nan", "train.lr", "NaN"),
            ("train.ema_decay=2", "train.ema_decay", "2"),
            ("train.steps=0", "train.steps", "0"),
            ("eval.size=0", "eval.size", "0"),
            ("train.batch_size=0", "train.batch_size", "0"),
        ] {
            let e = refused(set);
            assert!(e.contains(&format!("`{key}`")) && e.contains(value) && e.contains("--set"), "{set}: {e}");
        }
        let mut layers = Layers::new();
        layers.set_args(&[]).unwrap();
        layers.resolve(&[]).unwrap().check_ranges().unwrap();
    }
}
