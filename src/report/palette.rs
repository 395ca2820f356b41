//! Colours and markers. The colours are Okabe and Ito's eight, chosen to stay apart under the
//! common forms of colour blindness; a method keeps its colour in every plot of a report, and a
//! sampler its marker, so that a reader learns them once.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub u8, pub u8, pub u8);

/// Okabe–Ito, without its black (kept for references) and in an order that puts the most
/// distinct hues first.
const OKABE_ITO: [Colour; 7] = [
    Colour(0, 114, 178),   // blue
    Colour(230, 159, 0),   // orange
    Colour(0, 158, 115),   // bluish green
    Colour(204, 121, 167), // reddish purple
    Colour(86, 180, 233),  // sky blue
    Colour(213, 94, 0),    // vermillion
    Colour(240, 228, 66),  // yellow
];

/// Floors and held-out target points: neutral, so that the methods stand out against them.
pub const REFERENCE: Colour = Colour(0, 0, 0);
pub const TARGET: Colour = Colour(150, 150, 150);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Cross,
    Diamond,
    Down,
}

const MARKERS: [Marker; 6] =
    [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Cross, Marker::Diamond, Marker::Down];

/// Names given colours (or markers) in the order they are first asked for, the same name the
/// same entry every time.
#[derive(Debug, Clone, Default)]
pub struct Assignment {
    names: Vec<String>,
}

impl Assignment {
    /// Assign every name in order (call before drawing, so that plots agree).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Assignment {
        let mut a = Assignment::default();
        for n in names {
            a.index(n);
        }
        a
    }

    fn index(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        }
    }

    fn position(&self, name: &str) -> usize {
        self.names.iter().position(|n| n == name).unwrap_or(self.names.len())
    }

    pub fn colour(&self, name: &str) -> Colour {
        OKABE_ITO[self.position(name) % OKABE_ITO.len()]
    }

    pub fn marker(&self, name: &str) -> Marker {
        MARKERS[self.position(name) % MARKERS.len()]
    }
}
