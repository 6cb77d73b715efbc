//! [`Cells`]: one row's cells in a single allocation. A roster of 10,000
//! players with 20 matches each is 1.6 million cells; as one `String` each,
//! allocator overhead alone was most of the memory of a build (issue 2:
//! 312 MB peak for 11 MB of CSV). Here a row is its text and the end offset
//! of each cell.

use std::fmt;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeSeq, Serializer};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cells {
    text: String,
    ends: Vec<u32>,
}

impl Cells {
    pub fn new() -> Cells {
        Cells::default()
    }

    /// Appends a cell. Rows are far below 4 GiB (inputs are bounded long
    /// before); a longer cell is cut at the limit rather than wrapping.
    pub fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th cell.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i).unwrap_or(""))
    }

    /// Drops the growth slack: a row is built once and then only read
    /// (1.6 million cells at 10,000 players).
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Pads with empty cells up to `width`.
    pub fn pad_to(&mut self, width: usize) {
        while self.len() < width {
            self.push("");
        }
    }
}

impl<S: AsRef<str>> FromIterator<S> for Cells {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Cells {
        let mut cells = Cells::new();
        for s in iter {
            cells.push(s.as_ref());
        }
        cells
    }
}

impl From<Vec<String>> for Cells {
    fn from(v: Vec<String>) -> Cells {
        v.iter().collect()
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Cells {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}

impl fmt::Debug for Cells {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// As a list of strings, like the `Vec<String>` it replaces.
impl Serialize for Cells {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for cell in self.iter() {
            seq.serialize_element(cell)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Cells {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Cells, D::Error> {
        Ok(Vec::<String>::deserialize(deserializer)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip() {
        let mut c: Cells = ["a", "", "Zoé"].into_iter().collect();
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(1), Some(""));
        assert_eq!(c.get(2), Some("Zoé"));
        assert_eq!(c.get(3), None);
        c.pad_to(5);
        assert_eq!(c, ["a", "", "Zoé", "", ""]);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"["a","","Zoé","",""]"#);
        let back: Cells = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
