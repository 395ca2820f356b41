//! Figures drawn with plotters, as PNG (for the page and the README) and SVG (for papers).
//! The PNG's text is rasterised from the DejaVu Sans font built into the binary, so a report
//! looks the same on every machine, with no system fonts needed.

use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use super::figure::{Figure, Mark, Scale};
use super::palette::{self, Marker};

/// Pixel sizes: wide plots for curves, square-ish ones for point clouds, each with room on
/// its right for the legend, which never hides data.
pub fn size(figure: &Figure) -> (u32, u32) {
    let (w, h) = if figure.square { (460, 440) } else { (680, 460) };
    (w + legend_width(figure), h)
}

/// A legend entry: its label and how its mark looks.
struct Entry {
    label: String,
    colour: RGBColor,
    glyph: Glyph,
}

enum Glyph {
    Line { dashed: bool, marker: Option<Marker> },
    Dot,
    Block { opacity: f64 },
}

fn entries(figure: &Figure) -> Vec<Entry> {
    let mut out = Vec::new();
    for m in &figure.marks {
        let (label, c, glyph) = match m {
            Mark::Line { label: Some(l), colour: c, marker, dashed, .. } => {
                (l, c, Glyph::Line { dashed: *dashed, marker: *marker })
            }
            Mark::Level { label, colour: c, .. } => (label, c, Glyph::Line { dashed: true, marker: None }),
            Mark::Points { label: Some(l), colour: c, .. } => (l, c, Glyph::Dot),
            Mark::Bars { label, colour: c, opacity, .. } => (label, c, Glyph::Block { opacity: *opacity }),
            Mark::Paths { label, colour: c, .. } => (label, c, Glyph::Line { dashed: false, marker: None }),
            _ => continue,
        };
        out.push(Entry { label: label.clone(), colour: colour(*c), glyph });
    }
    out
}

fn legend_width(figure: &Figure) -> u32 {
    let longest = entries(figure).iter().map(|e| e.label.chars().count()).max();
    longest.map_or(0, |n| n as u32 * 7 + 48)
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
    let (w, _) = root.dim_in_pixel();
    let (plot, legend) = root.split_horizontally(w - legend_width(figure));
    draw_legend(&legend, &entries(figure)).map_err(|e| format!("{}: {e}", figure.name))?;
    let root = plot;
    let linear = |r: (f64, f64)| RangedCoordf64::from(r.0..r.1);
    let log = |r: (f64, f64)| LogAxis { lo: r.0, hi: r.1 };
    match (figure.x.scale, figure.y.scale) {
        (Scale::Linear, Scale::Linear) => chart(figure, root, linear(x), linear(y), (x, y)),
        (Scale::Log, Scale::Linear) => chart(figure, root, log(x), linear(y), (x, y)),
        (Scale::Linear, Scale::Log) => chart(figure, root, linear(x), log(y), (x, y)),
        (Scale::Log, Scale::Log) => chart(figure, root, log(x), log(y), (x, y)),
    }
    .map_err(|e| format!("{}: {e}", figure.name))?;
    legend.present().map_err(|e| format!("{}: {e}", figure.name))
}

fn chart<DB, X, Y>(
    figure: &Figure,
    root: DrawingArea<DB, plotters::coord::Shift>,
    x: X,
    y: Y,
    ranges: ((f64, f64), (f64, f64)),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let x_range = ranges.0;
    // What lies below a log axis (a band's edge at or below zero) is drawn at its bottom.
    let floor = |y: f64| if figure.y.scale == Scale::Log { y.max(ranges.1 .0) } else { y };
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&figure.title, (FONT, 17).into_font().style(FontStyle::Bold))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(68)
        .build_cartesian_2d(x, y)?;
    let (x_tick, y_tick) = (|v: &f64| tick(*v, figure.x.scale), |v: &f64| tick(*v, figure.y.scale));
    chart
        .configure_mesh()
        .x_desc(figure.x.label.as_str())
        .y_desc(figure.y.label.as_str())
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .x_labels(10)
        .y_labels(8)
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    for mark in &figure.marks {
        match mark {
            // A band at one NFE has no width: an error bar shows it.
            Mark::Band { colour: c, points } if points.len() == 1 => {
                let (x, lo, hi) = points[0];
                let lo = floor(lo);
                let bar = colour(*c).mix(0.6).stroke_width(2);
                chart.draw_series(std::iter::once(PathElement::new(vec![(x, lo), (x, hi)], bar)))?;
                let cap = |y: f64| EmptyElement::at((x, y)) + PathElement::new(vec![(-5, 0), (5, 0)], bar);
                chart.draw_series([cap(lo), cap(hi)])?;
            }
            Mark::Band { colour: c, points } => {
                let mut outline: Vec<(f64, f64)> = points.iter().map(|&(x, _, hi)| (x, hi)).collect();
                outline.extend(points.iter().rev().map(|&(x, lo, _)| (x, floor(lo))));
                chart.draw_series(std::iter::once(Polygon::new(outline, colour(*c).mix(0.18).filled())))?;
            }
            Mark::Level { colour: c, y, .. } => {
                let ends = [(x_range.0, *y), (x_range.1, *y)];
                chart.draw_series(DashedLineSeries::new(ends, 8, 5, colour(*c).stroke_width(2)))?;
            }
            Mark::Line { colour: c, points, marker, dashed, .. } => {
                let style = colour(*c).stroke_width(2);
                if *dashed {
                    chart.draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, style))?;
                } else {
                    chart.draw_series(LineSeries::new(points.iter().copied(), style))?;
                }
                // A curve of one point would draw nothing: it gets a dot.
                if let ([point], None) = (points.as_slice(), marker) {
                    chart.draw_series(std::iter::once(Circle::new(*point, 3, colour(*c).filled())))?;
                }
                if let Some(m) = marker {
                    let filled = colour(*c).filled();
                    chart
                        .draw_series(points.iter().map(|&p| EmptyElement::at(p) + Polygon::new(outline(*m), filled)))?;
                }
            }
            Mark::Points { colour: c, points, size, opacity, .. } => {
                let style = colour(*c).mix(*opacity).filled();
                chart.draw_series(points.iter().map(|&p| Circle::new(p, *size, style)))?;
            }
            Mark::Bars { colour: c, bins, opacity, .. } => {
                let style = colour(*c).mix(*opacity).filled();
                chart.draw_series(bins.iter().map(|&(a, b, h)| Rectangle::new([(a, 0.0), (b, h)], style)))?;
            }
            Mark::Paths { colour: c, paths, .. } => {
                let style = colour(*c).mix(0.7).stroke_width(1);
                chart.draw_series(paths.iter().map(|path| PathElement::new(path.clone(), style)))?;
            }
        }
    }
    root.present()
}

/// The legend, top-aligned with the plot, an entry a line: a sample of the mark and its label.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[Entry],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    area.fill(&WHITE)?;
    let text = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, e) in entries.iter().enumerate() {
        let y = 52 + 20 * i as i32;
        let style = e.colour.stroke_width(2);
        match &e.glyph {
            Glyph::Line { dashed, marker } => {
                let segments: &[(i32, i32)] = if *dashed { &[(4, 12), (17, 25)] } else { &[(4, 28)] };
                for &(a, b) in segments {
                    area.draw(&PathElement::new(vec![(a, y), (b, y)], style))?;
                }
                if let Some(m) = marker {
                    area.draw(&(EmptyElement::at((16, y)) + Polygon::new(outline(*m), e.colour.filled())))?;
                }
            }
            Glyph::Dot => area.draw(&Circle::new((16, y), 4, e.colour.filled()))?,
            Glyph::Block { opacity } => {
                area.draw(&Rectangle::new([(4, y - 6), (28, y + 6)], e.colour.mix(*opacity).filled()))?
            }
        }
        area.draw(&Text::new(e.label.clone(), (36, y), text.clone()))?;
    }
    Ok(())
}

/// A log axis with a grid line at every m·10^k (m = 1…9) inside it, of which [`tick`] labels
/// 1, 2 and 5. (plotters' own log axis starts its lines at the first power of ten inside the
/// range, leaving what lies below it unmarked.)
#[derive(Debug, Clone)]
struct LogAxis {
    lo: f64,
    hi: f64,
}

impl Ranged for LogAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (from, to): (i32, i32)) -> i32 {
        let f = (value.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        from + (f * f64::from(to - from)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only bold lines: the mesh's light lines are not drawn.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let mut points = Vec::new();
        let mut decade = 10f64.powf(self.lo.log10().floor());
        while decade <= self.hi {
            points.extend((1..=9).map(|m| f64::from(m) * decade).filter(|v| (self.lo..=self.hi).contains(v)));
            decade *= 10.0;
        }
        points
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// A tick label: at most four significant digits, without trailing zeros after the point.
/// On a log axis, only 1, 2 and 5 times a power of ten are labelled: the others crowd.
fn tick(v: f64, scale: Scale) -> String {
    if v.abs() < 1e-12 {
        return "0".into();
    }
    if scale == Scale::Log {
        let mantissa = v / 10f64.powf(v.log10().floor());
        if ![1.0, 2.0, 5.0, 10.0].iter().any(|m| (mantissa - m).abs() < 1e-6 * m) {
            return String::new();
        }
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

/// A marker's outline about its centre, in pixels.
fn outline(marker: Marker) -> Vec<(i32, i32)> {
    match marker {
        Marker::Circle => vec![(4, 0), (3, 3), (0, 4), (-3, 3), (-4, 0), (-3, -3), (0, -4), (3, -3)],
        Marker::Square => vec![(-4, -4), (4, -4), (4, 4), (-4, 4)],
        Marker::Triangle => vec![(0, -5), (5, 4), (-5, 4)],
        Marker::Diamond => vec![(0, -5), (5, 0), (0, 5), (-5, 0)],
        Marker::Down => vec![(0, 5), (5, -4), (-5, -4)],
        Marker::Cross => vec![
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
        ],
    }
}
