//! Figures drawn with plotters, as PNG (for the page and the README) and SVG (for papers).
//! The PNG's text is rasterised from the DejaVu Sans font built into the binary, so a report
//! looks the same on every machine, with no system fonts needed.

use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use super::figure::{Figure, Mark, Scale};
use super::palette::{self, Marker};

/// Pixel sizes: wide plots for curves, square-ish ones for point clouds.
pub fn size(figure: &Figure) -> (u32, u32) {
    if figure.square {
        (460, 440)
    } else {
        (720, 460)
    }
}

const FONT: &str = "sans-serif";

fn fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // Both are the fonts' own bytes, which ab_glyph parses: they cannot fail to register.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Write `<dir>/<name>.png` and `<dir>/<name>.svg`.
pub fn write(figure: &Figure, dir: &Path) -> Result<(), String> {
    fonts();
    let size = size(figure);
    let png = dir.join(format!("{}.png", figure.name));
    draw(figure, BitMapBackend::new(&png, size).into_drawing_area())?;
    let svg = dir.join(format!("{}.svg", figure.name));
    draw(figure, SVGBackend::new(&svg, size).into_drawing_area())
}

fn colour(c: palette::Colour) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The data range of every mark, padded; log axes take positive values only.
fn range(values: impl Iterator<Item = f64>, scale: Scale) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (scale == Scale::Linear || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return if scale == Scale::Log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    match scale {
        Scale::Log => {
            let (a, b) = (lo.log10(), hi.log10());
            let pad = ((b - a) * 0.06).max(0.05);
            (10f64.powf(a - pad), 10f64.powf(b + pad))
        }
        Scale::Linear => {
            let pad = ((hi - lo) * 0.05).max(if hi == lo { lo.abs().max(1.0) * 0.1 } else { 0.0 });
            (lo - pad, hi + pad)
        }
    }
}

fn draw<DB: DrawingBackend>(figure: &Figure, root: DrawingArea<DB, plotters::coord::Shift>) -> Result<(), String> {
    let points: Vec<(f64, f64)> = figure.marks.iter().flat_map(Mark::extent).collect();
    let mut x = range(points.iter().map(|p| p.0), figure.x.scale);
    let mut y = range(points.iter().map(|p| p.1), figure.y.scale);
    if figure.square {
        // Equal units: widen the shorter side about its centre.
        let (w, h) = (x.1 - x.0, y.1 - y.0);
        if w > h {
            let c = (y.0 + y.1) / 2.0;
            y = (c - w / 2.0, c + w / 2.0);
        } else {
            let c = (x.0 + x.1) / 2.0;
            x = (c - h / 2.0, c + h / 2.0);
        }
    }
    let linear = |r: (f64, f64)| RangedCoordf64::from(r.0..r.1);
    let log = |r: (f64, f64)| (r.0..r.1).log_scale();
    match (figure.x.scale, figure.y.scale) {
        (Scale::Linear, Scale::Linear) => chart(figure, root, linear(x), linear(y), x),
        (Scale::Log, Scale::Linear) => chart(figure, root, log(x), linear(y), x),
        (Scale::Linear, Scale::Log) => chart(figure, root, linear(x), log(y), x),
        (Scale::Log, Scale::Log) => chart(figure, root, log(x), log(y), x),
    }
    .map_err(|e| format!("{}: {e}", figure.name))
}

fn chart<DB, X, Y>(
    figure: &Figure,
    root: DrawingArea<DB, plotters::coord::Shift>,
    x: X,
    y: Y,
    x_range: (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&figure.title, (FONT, 17).into_font().style(FontStyle::Bold))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(68)
        .build_cartesian_2d(x, y)?;
    let number = |v: &f64| tick(*v);
    chart
        .configure_mesh()
        .x_desc(figure.x.label.as_str())
        .y_desc(figure.y.label.as_str())
        .x_label_formatter(&number)
        .y_label_formatter(&number)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .x_labels(10)
        .y_labels(8)
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    let mut legend = false;
    for mark in &figure.marks {
        match mark {
            Mark::Band { colour: c, points } => {
                let mut outline: Vec<(f64, f64)> = points.iter().map(|&(x, _, hi)| (x, hi)).collect();
                outline.extend(points.iter().rev().map(|&(x, lo, _)| (x, lo)));
                chart.draw_series(std::iter::once(Polygon::new(outline, colour(*c).mix(0.18).filled())))?;
            }
            Mark::Level { label, colour: c, y } => {
                let style = colour(*c).stroke_width(2);
                let ends = [(x_range.0, *y), (x_range.1, *y)];
                chart
                    .draw_series(DashedLineSeries::new(ends, 8, 5, style))?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
                legend = true;
            }
            Mark::Line { label, colour: c, points, marker, dashed } => {
                let style = colour(*c).stroke_width(2);
                let drawn = if *dashed {
                    chart.draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, style))?
                } else {
                    chart.draw_series(LineSeries::new(points.iter().copied(), style))?
                };
                if let Some(label) = label {
                    let (m, dashed) = (*marker, *dashed);
                    drawn.label(label.as_str()).legend(move |(x, y)| {
                        // Two segments (a gap between them for a dashed line) and the marker.
                        let (a, b) = if dashed { ((0, 8), (14, 22)) } else { ((0, 11), (11, 22)) };
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(a.0, 0), (a.1, 0)], style)
                            + PathElement::new(vec![(b.0, 0), (b.1, 0)], style)
                            + Polygon::new(m.map(marker_outline).unwrap_or_default(), style.filled())
                    });
                    legend = true;
                }
                if let Some(m) = marker {
                    draw_markers(&mut chart, points, *m, colour(*c))?;
                }
            }
            Mark::Points { label, colour: c, points, size, opacity } => {
                let style = colour(*c).mix(*opacity).filled();
                let drawn = chart.draw_series(points.iter().map(|&p| Circle::new(p, *size, style)))?;
                if let Some(label) = label {
                    let solid = colour(*c).filled();
                    drawn.label(label.as_str()).legend(move |(x, y)| Circle::new((x + 11, y), 4, solid));
                    legend = true;
                }
            }
            Mark::Bars { label, colour: c, bins, opacity } => {
                let style = colour(*c).mix(*opacity).filled();
                chart
                    .draw_series(bins.iter().map(|&(a, b, h)| Rectangle::new([(a, 0.0), (b, h)], style)))?
                    .label(label.as_str())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 22, y + 5)], style));
                legend = true;
            }
            Mark::Paths { label, colour: c, paths } => {
                let style = colour(*c).mix(0.7).stroke_width(1);
                for path in paths {
                    chart.draw_series(std::iter::once(PathElement::new(path.clone(), style)))?;
                }
                let solid = colour(*c).stroke_width(2);
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], solid));
                legend = true;
            }
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(190, 190, 190))
            .draw()?;
    }
    root.present()
}

/// A tick label: at most four significant digits, without trailing zeros after the point.
fn tick(v: f64) -> String {
    if v.abs() < 1e-12 {
        return "0".into();
    }
    let text = super::compare::significant(v);
    match text.split_once('e') {
        Some((mantissa, exponent)) if mantissa.contains('.') => {
            format!("{}e{exponent}", mantissa.trim_end_matches('0').trim_end_matches('.'))
        }
        _ if text.contains('.') => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        _ => text,
    }
}

/// A marker's outline about (11, 0), the middle of a legend entry, in pixels.
fn marker_outline(marker: Marker) -> Vec<(i32, i32)> {
    let around = |points: &[(i32, i32)]| points.iter().map(|&(x, y)| (x + 11, y)).collect();
    match marker {
        Marker::Circle => around(&[(4, 0), (3, 3), (0, 4), (-3, 3), (-4, 0), (-3, -3), (0, -4), (3, -3)]),
        Marker::Square => around(&[(-4, -4), (4, -4), (4, 4), (-4, 4)]),
        Marker::Triangle => around(&[(0, -5), (5, 4), (-5, 4)]),
        Marker::Cross => around(&[
            (-1, -5),
            (1, -5),
            (1, -1),
            (5, -1),
            (5, 1),
            (1, 1),
            (1, 5),
            (-1, 5),
            (-1, 1),
            (-5, 1),
            (-5, -1),
            (-1, -1),
        ]),
    }
}

fn draw_markers<DB, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    marker: Marker,
    c: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let filled = c.filled();
    let ps = points.iter().copied();
    match marker {
        Marker::Circle => chart.draw_series(ps.map(|p| Circle::new(p, 4, filled)))?,
        Marker::Square => {
            chart.draw_series(ps.map(|p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], filled)))?
        }
        Marker::Triangle => chart.draw_series(ps.map(|p| TriangleMarker::new(p, 5, filled)))?,
        Marker::Cross => chart.draw_series(ps.map(|p| Cross::new(p, 4, c.stroke_width(2))))?,
    };
    Ok(())
}
