//! An example plugin library: a two-dimensional data set and a metric, each in its own module.

pub mod mean_distance;
pub mod spiral;

use runner_sdk::{PluginInfo, PluginKind};

runner_sdk::export_plugin! {
    library: "example-spiral",
    version: env!("CARGO_PKG_VERSION"),
    plugins: [
        runner_sdk::export::dataset(
            PluginInfo::new(PluginKind::Dataset, "spiral", "two interleaved spirals in 2-D", spiral::PARAMS),
            spiral::make_spiral,
        ),
        runner_sdk::export::metric(
            PluginInfo::new(PluginKind::Metric, "mean-distance", "the distance between the means of samples and target", &[]),
            |_: &runner_sdk::Params| Ok(mean_distance::MeanDistance),
        ),
    ],
}
