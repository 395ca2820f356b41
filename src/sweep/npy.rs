//! NumPy `.npy` files (format version 1.0) of little-endian f32 matrices, shape [n, dim].

use std::io::{self, Read};
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY";

pub fn write(path: &Path, data: &[f32], dim: usize) -> io::Result<()> {
    let n = data.len().checked_div(dim).unwrap_or(0);
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {dim}), }}");
    // The header is padded with spaces and a newline so that the data starts 64-byte aligned.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(unpadded + 64 + data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    crate::files::write_atomic(path, &out)
}

/// Read back a file written by [`write`]: the data and its shape.
pub fn read(path: &Path) -> io::Result<(Vec<f32>, [usize; 2])> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {m}", path.display()));
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy file"));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).map_err(|_| bad("header is not UTF-8"))?;
    if !header.contains("'descr': '<f4'") {
        return Err(bad("not little-endian f32"));
    }
    let shape = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let [n, d] = dims[..] else { return Err(bad("not a matrix")) };
    let data: Vec<f32> =
        bytes[10 + hlen..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    if data.len() != n * d {
        return Err(bad("data length does not match the shape"));
    }
    Ok((data, [n, d]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_with_an_aligned_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let data = vec![1.0f32, -2.5, 3.25, 4.0, 5.0, 6.5];
        super::write(&path, &data, 2).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!((bytes.len() - data.len() * 4) % 64, 0);
        assert_eq!(super::read(&path).unwrap(), (data, [3, 2]));
    }
}
