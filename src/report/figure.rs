//! A plot as data: axes and marks in data coordinates, built from a sweep's results and drawn
//! by [`super::render`]. Tests read figures to check what a plot shows, not only that it exists.

use super::palette::{Colour, Marker};

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The file stem of its PNG and SVG (`w2-vs-nfe-moons`).
    pub name: String,
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub marks: Vec<Mark>,
    /// A sentence under the plot, for what the marks cannot say.
    pub caption: String,
    /// Equal units on both axes (scatter plots of 2-D points).
    pub square: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
}

impl Axis {
    pub fn linear(label: impl Into<String>) -> Axis {
        Axis { label: label.into(), scale: Scale::Linear }
    }

    pub fn log(label: impl Into<String>) -> Axis {
        Axis { label: label.into(), scale: Scale::Log }
    }
}

/// What a plot draws. A mark with a `label` gets a legend entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// A polyline through points in x order, with markers at the points when `marker` is set.
    Line { label: Option<String>, colour: Colour, points: Vec<(f64, f64)>, marker: Option<Marker>, dashed: bool },
    /// A shaded band between `low` and `high` at each x (mean ± std over seeds).
    Band { colour: Colour, points: Vec<(f64, f64, f64)> },
    /// A horizontal reference line across the plot (a floor).
    Level { label: String, colour: Colour, y: f64 },
    /// A cloud of points.
    Points { label: Option<String>, colour: Colour, points: Vec<(f64, f64)>, size: u32, opacity: f64 },
    /// Bars of a normalised histogram: (left edge, right edge, density).
    Bars { label: String, colour: Colour, bins: Vec<(f64, f64, f64)>, opacity: f64 },
    /// Many thin polylines of one meaning (trajectories), one legend entry for all.
    Paths { label: String, colour: Colour, paths: Vec<Vec<(f64, f64)>> },
}

impl Mark {
    /// Every data point the mark draws (for the axis ranges).
    pub fn extent(&self) -> Vec<(f64, f64)> {
        match self {
            Mark::Line { points, .. } | Mark::Points { points, .. } => points.clone(),
            Mark::Band { points, .. } => points.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]).collect(),
            Mark::Level { y, .. } => vec![(f64::NAN, *y)],
            Mark::Bars { bins, .. } => bins.iter().flat_map(|&(a, b, h)| [(a, 0.0), (b, h)]).collect(),
            Mark::Paths { paths, .. } => paths.iter().flatten().copied().collect(),
        }
    }
}

impl Figure {
    /// The lines with a legend label: the series a reader tells apart.
    pub fn series(&self) -> Vec<(&str, &[(f64, f64)])> {
        self.marks
            .iter()
            .filter_map(|m| match m {
                Mark::Line { label: Some(label), points, .. } => Some((label.as_str(), points.as_slice())),
                _ => None,
            })
            .collect()
    }

    /// The reference levels drawn (label, y).
    pub fn levels(&self) -> Vec<(&str, f64)> {
        self.marks
            .iter()
            .filter_map(|m| match m {
                Mark::Level { label, y, .. } => Some((label.as_str(), *y)),
                _ => None,
            })
            .collect()
    }
}
