//! `explicit`: the times the user lists. Parameters are scalars, so the list is one string of
//! comma-separated numbers; it must have `steps + 1` strictly increasing entries that start at
//! `t_start` and end at `t_end`.

use runner_sdk::{ParamSpec, Params, PluginError, PluginInfo, PluginKind, Schedule, TimeGrid};

use crate::registry::Entry;

const NAME: &str = "explicit";

#[derive(Debug, Clone)]
pub struct Explicit {
    pub times: Vec<f64>,
}

impl Explicit {
    pub fn parse(list: &str) -> Result<Explicit, String> {
        let times = list
            .split(',')
            .map(|item| item.trim().parse::<f64>().map_err(|e| format!("`{}` is not a number ({e})", item.trim())))
            .collect::<Result<Vec<f64>, String>>()?;
        if times.len() < 2 {
            return Err(format!("needs at least two times, got {}", times.len()));
        }
        if let Some(i) = times.windows(2).position(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater)) {
            return Err(format!("must increase strictly: {} then {}", times[i], times[i + 1]));
        }
        if !(times[0] >= 0.0 && times[times.len() - 1] <= 1.0) {
            return Err(format!("must lie in [0, 1], got {} to {}", times[0], times[times.len() - 1]));
        }
        Ok(Explicit { times })
    }
}

impl TimeGrid for Explicit {
    fn times(&self, steps: usize, t_start: f64, t_end: f64, _: &dyn Schedule) -> Result<Vec<f64>, PluginError> {
        super::check_span(NAME, steps, t_start, t_end)?;
        let invalid = |message: String| PluginError::Invalid { plugin: NAME.to_string(), message };
        if self.times.len() != steps + 1 {
            return Err(invalid(format!(
                "lists {} times ({} steps) but {steps} steps were asked for",
                self.times.len(),
                self.times.len() - 1
            )));
        }
        let (first, last) = (self.times[0], self.times[steps]);
        if first != t_start || last != t_end {
            return Err(invalid(format!("runs from {first} to {last} but the span asked for is [{t_start}, {t_end}]")));
        }
        Ok(self.times.clone())
    }
}

const PARAMS: &[ParamSpec] =
    &[ParamSpec::string("times", "", "comma-separated increasing times in [0, 1], e.g. \"0, 0.5, 0.9, 1\"")];

fn make(p: &Params) -> Result<Box<dyn TimeGrid>, PluginError> {
    Ok(Box::new(Explicit::parse(p.string("times")?).map_err(|m| p.invalid("times", m))?))
}

pub const ENTRY: Entry<dyn TimeGrid> = Entry {
    info: PluginInfo::new(
        PluginKind::Grid,
        NAME,
        "the listed times (param `times`, comma-separated); steps must match",
        PARAMS,
    ),
    make,
};
