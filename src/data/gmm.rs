//! `gmm`: a Gaussian mixture given by the user, Σ_k w_k·N(μ_k, s_k²·I) in any dimension — the
//! way to put one's own multimodal target in front of the oracle (`model.kind = "oracle"`),
//! which knows the exact velocity of every isotropic mixture.
//!
//! Parameters are strings, because a parameter is one scalar or string (the plugin ABI's
//! values): `means` lists the components separated by `;`, each a comma-separated point
//! (`"-2,0; 2,0; 0,3"` is three components in 2-D); `stds` is one standard deviation for all or
//! one per component; `weights` is empty for equal weights or one positive number per
//! component, normalised to sum to 1 (so `"1, 3"` means ¼, ¾).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use runner_sdk::{Component, Dataset, Mixture, ParamSpec, Params, PluginError, PluginInfo, PluginKind};

use crate::registry::Entry;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::string(
        "means",
        "-2; 2",
        "component means separated by ';', coordinates by ',' (\"-2,0; 2,0\": two components in 2-D)",
    ),
    ParamSpec::string("stds", "0.5", "one standard deviation for every component, or one per component (\"0.5, 0.2\")"),
    ParamSpec::string(
        "weights",
        "",
        "empty for equal weights, or one positive weight per component (normalised to sum to 1)",
    ),
];
pub const ENTRY: Entry<dyn Dataset> = Entry {
    info: PluginInfo::new(
        PluginKind::Dataset,
        "gmm",
        "a user-given isotropic Gaussian mixture in any dimension (the oracle knows its exact velocity)",
        PARAMS,
    ),
    make,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Gmm {
    mixture: Mixture,
    /// Cumulative weights, the last exactly 1: a uniform draw u picks the first k with u < c_k.
    cumulative: Vec<f64>,
}

fn make(p: &Params) -> Result<Box<dyn Dataset>, PluginError> {
    Ok(Box::new(Gmm::from_params(p)?))
}

/// The comma-separated numbers of `text`; `name` is the parameter named in errors.
fn numbers(p: &Params, name: &str, text: &str) -> Result<Vec<f64>, PluginError> {
    text.split(',')
        .map(|s| {
            let s = s.trim();
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| p.invalid(name, format!("\"{s}\" is not a finite number (in \"{text}\")")))
        })
        .collect()
}

impl Gmm {
    pub fn from_params(p: &Params) -> Result<Gmm, PluginError> {
        let means_text = p.string("means")?;
        let means = means_text.split(';').map(|point| numbers(p, "means", point)).collect::<Result<Vec<_>, _>>()?;
        let dim = means[0].len();
        if let Some((k, m)) = means.iter().enumerate().find(|(_, m)| m.len() != dim) {
            return Err(p.invalid(
                "means",
                format!(
                    "component 1 has {dim} coordinates but component {} has {}, in \"{means_text}\"",
                    k + 1,
                    m.len()
                ),
            ));
        }
        let n = means.len();
        let per_component = |name: &str, values: Vec<f64>| -> Result<Vec<f64>, PluginError> {
            match values.len() {
                1 => Ok(vec![values[0]; n]),
                len if len == n => Ok(values),
                len => Err(p.invalid(name, format!("has {len} entries for {n} components (give 1 or {n})"))),
            }
        };
        let stds = per_component("stds", numbers(p, "stds", p.string("stds")?)?)?;
        if let Some((k, s)) = stds.iter().enumerate().find(|(_, s)| **s < 0.0) {
            return Err(p.invalid("stds", format!("component {} has std {s}; stds must be ≥ 0", k + 1)));
        }
        let weights = match p.string("weights")?.trim() {
            "" => vec![1.0; n],
            text => per_component("weights", numbers(p, "weights", text)?)?,
        };
        if let Some((k, w)) = weights.iter().enumerate().find(|(_, w)| **w <= 0.0) {
            return Err(p.invalid("weights", format!("component {} has weight {w}; weights must be positive", k + 1)));
        }
        let total: f64 = weights.iter().sum();
        let components: Vec<Component> = means
            .into_iter()
            .zip(stds)
            .zip(&weights)
            .map(|((mean, std), w)| Component { weight: w / total, mean, std })
            .collect();
        let mut acc = 0.0;
        let mut cumulative: Vec<f64> = components
            .iter()
            .map(|c| {
                acc += c.weight;
                acc
            })
            .collect();
        // Round-off must not leave a draw u ∈ [Σw, 1) without a component.
        *cumulative.last_mut().expect("at least one component") = 1.0;
        Ok(Gmm { mixture: Mixture { dim, components }, cumulative })
    }
}

impl Dataset for Gmm {
    fn dim(&self) -> usize {
        self.mixture.dim
    }

    fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut rng = super::seed::rng("gmm", seed);
        let mut out = Vec::with_capacity(n * self.mixture.dim);
        for _ in 0..n {
            let u: f64 = rng.random();
            let k = self.cumulative.iter().position(|&c| u < c).unwrap_or(self.cumulative.len() - 1);
            let c = &self.mixture.components[k];
            for &m in &c.mean {
                let z: f64 = StandardNormal.sample(&mut rng);
                out.push((m + c.std * z) as f32);
            }
        }
        out
    }

    fn mixture(&self) -> Option<Mixture> {
        Some(self.mixture.clone())
    }
}
