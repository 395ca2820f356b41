//! An example plugin library: a schedule whose α rises along a logistic curve, so that the
//! path spends more of its time near the noise and near the data than the straight path does.

use runner_sdk::{Coefficients, ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule};

pub const PARAMS: &[ParamSpec] = &[ParamSpec::float("k", 4.0, "steepness of the logistic (> 0)")];

/// α(t) = s(t), σ(t) = 1 − s(t), γ = 0, with s the logistic L(k(t − ½)) rescaled to run from
/// exactly 0 at t = 0 to exactly 1 at t = 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sigmoid {
    k: f64,
    /// L(−k/2), and the span L(k/2) − L(−k/2) that normalises s.
    low: f64,
    span: f64,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Sigmoid {
    pub fn new(k: f64) -> Sigmoid {
        let low = logistic(-k / 2.0);
        Sigmoid { k, low, span: logistic(k / 2.0) - low }
    }
}

impl Schedule for Sigmoid {
    fn coefficients(&self, t: f64) -> Coefficients {
        let l = logistic(self.k * (t - 0.5));
        let s = (l - self.low) / self.span;
        // L' = L·(1 − L).
        let ds = self.k * l * (1.0 - l) / self.span;
        Coefficients { alpha: s, sigma: 1.0 - s, gamma: 0.0, d_alpha: ds, d_sigma: -ds, d_gamma: 0.0 }
    }
}

pub fn make_sigmoid(p: &Params) -> Result<Sigmoid, PluginError> {
    let k = p.float("k")?;
    if !(k > 0.0 && k.is_finite()) {
        return Err(p.invalid("k", format!("must be a finite number > 0, got {k}")));
    }
    Ok(Sigmoid::new(k))
}

runner_sdk::export_plugin! {
    library: "example-sigmoid",
    version: env!("CARGO_PKG_VERSION"),
    plugins: [
        runner_sdk::export::schedule(
            PluginInfo::new(PluginKind::Schedule, "sigmoid", "α = s(t), σ = 1 − s(t) with s a normalised logistic of steepness k", PARAMS),
            make_sigmoid,
        ),
    ],
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn it_conforms_for_several_steepnesses() {
        for k in [0.5, 4.0, 12.0] {
            runner_testkit::check_schedule(&Sigmoid::new(k)).unwrap_or_else(|e| panic!("k = {k}: {e}"));
        }
    }

    #[test]
    fn it_runs_from_noise_to_data_symmetrically() {
        let s = Sigmoid::new(4.0);
        let (start, mid, end) = (s.coefficients(0.0), s.coefficients(0.5), s.coefficients(1.0));
        assert!(start.alpha.abs() < 1e-15 && (start.sigma - 1.0).abs() < 1e-15);
        assert!((end.alpha - 1.0).abs() < 1e-15 && end.sigma.abs() < 1e-15);
        assert!((mid.alpha - 0.5).abs() < 1e-15);
        assert!((s.coefficients(0.2).alpha + s.coefficients(0.8).alpha - 1.0).abs() < 1e-15);
    }

    #[test]
    fn a_steepness_that_is_not_positive_is_refused() {
        let mut given = BTreeMap::new();
        given.insert("k".to_string(), runner_sdk::ParamValue::Float(0.0));
        let plugin = &plugins()[0];
        let err = make_sigmoid(&plugin.resolve(&given).unwrap()).unwrap_err().to_string();
        assert!(err.contains("`k`") && err.contains("> 0"), "{err}");
    }

    #[test]
    fn the_library_descriptor_builds() {
        let lib = unsafe { &*runner_plugin_library() };
        assert_eq!(lib.n_plugins, 1);
        let plugin = unsafe { &*lib.plugins };
        assert_eq!(unsafe { plugin.name.bytes() }, b"sigmoid");
    }
}
