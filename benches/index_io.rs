//! Vector file I/O for the index benchmark: `.npy` (float32 / int32, C order, 2-D) and `.fvecs`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

pub type IoResult<T> = Result<T, String>;

/// A row-major matrix.
pub struct Matrix<T> {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<T>,
}

impl<T> Matrix<T> {
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

fn parse_npy_header(h: &str) -> IoResult<(String, bool, Vec<usize>)> {
    let get = |key: &str| -> IoResult<&str> {
        let i = h.find(key).ok_or(format!("npy header lacks {key}"))? + key.len();
        Ok(h[i..].trim_start_matches([' ', ':']).trim_start())
    };
    let descr = get("'descr'")?;
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or("")
        .to_string();
    let fortran = get("'fortran_order'")?.starts_with("True");
    let shape = get("'shape'")?;
    let inner = shape
        .trim_start_matches('(')
        .split(')')
        .next()
        .unwrap_or("");
    let dims: Vec<usize> = inner
        .split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|e| format!("npy shape: {e}")))
        .collect::<IoResult<_>>()?;
    Ok((descr, fortran, dims))
}

fn read_npy_raw(path: &Path) -> IoResult<(String, Vec<usize>, Vec<u8>)> {
    let mut f = BufReader::new(File::open(path).map_err(|e| format!("{}: {e}", path.display()))?);
    let mut magic = [0u8; 8];
    f.read_exact(&mut magic).map_err(|e| e.to_string())?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err(format!("{}: not an npy file", path.display()));
    }
    let hlen = if magic[6] == 1 {
        let mut b = [0u8; 2];
        f.read_exact(&mut b).map_err(|e| e.to_string())?;
        u16::from_le_bytes(b) as usize
    } else {
        let mut b = [0u8; 4];
        f.read_exact(&mut b).map_err(|e| e.to_string())?;
        u32::from_le_bytes(b) as usize
    };
    let mut h = vec![0u8; hlen];
    f.read_exact(&mut h).map_err(|e| e.to_string())?;
    let (descr, fortran, shape) = parse_npy_header(&String::from_utf8_lossy(&h))?;
    if fortran {
        return Err("fortran-order npy not supported".into());
    }
    let mut data = Vec::new();
    f.read_to_end(&mut data).map_err(|e| e.to_string())?;
    Ok((descr, shape, data))
}

fn shape2(shape: &[usize]) -> IoResult<(usize, usize)> {
    match shape {
        [r, c] => Ok((*r, *c)),
        [r] => Ok((*r, 1)),
        _ => Err(format!("expected a 2-D array, got shape {shape:?}")),
    }
}

/// Read a float32 matrix from `.npy` or `.fvecs`.
pub fn read_f32(path: &Path) -> IoResult<Matrix<f32>> {
    if path.extension().and_then(|e| e.to_str()) == Some("fvecs") {
        return read_fvecs(path);
    }
    let (descr, shape, data) = read_npy_raw(path)?;
    let (rows, cols) = shape2(&shape)?;
    let v: Vec<f32> = match descr.as_str() {
        "<f4" => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        "<f8" => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
            .collect(),
        d => return Err(format!("{}: unsupported dtype {d}", path.display())),
    };
    if v.len() != rows * cols {
        return Err(format!("{}: truncated data", path.display()));
    }
    Ok(Matrix {
        rows,
        cols,
        data: v,
    })
}

/// Read an int32 matrix from `.npy`.
pub fn read_i32(path: &Path) -> IoResult<Matrix<i32>> {
    let (descr, shape, data) = read_npy_raw(path)?;
    let (rows, cols) = shape2(&shape)?;
    if descr != "<i4" {
        return Err(format!("{}: expected <i4, got {descr}", path.display()));
    }
    let v: Vec<i32> = data
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if v.len() != rows * cols {
        return Err(format!("{}: truncated data", path.display()));
    }
    Ok(Matrix {
        rows,
        cols,
        data: v,
    })
}

fn read_fvecs(path: &Path) -> IoResult<Matrix<f32>> {
    let mut b = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut b))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if b.len() < 4 {
        return Err("empty fvecs".into());
    }
    let d = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let rec = 4 + 4 * d;
    if d == 0 || b.len() % rec != 0 {
        return Err(format!("{}: bad fvecs layout", path.display()));
    }
    let rows = b.len() / rec;
    let mut data = Vec::with_capacity(rows * d);
    for r in b.chunks_exact(rec) {
        data.extend(
            r[4..]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    Ok(Matrix {
        rows,
        cols: d,
        data,
    })
}

fn write_npy(path: &Path, descr: &str, rows: usize, cols: usize, bytes: &[u8]) -> IoResult<()> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let total = 10 + header.len() + 1;
    let pad = (64 - total % 64) % 64;
    header.push_str(&" ".repeat(pad));
    header.push('\n');
    let tmp = path.with_extension("npy.tmp");
    {
        let mut f =
            BufWriter::new(File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?);
        f.write_all(b"\x93NUMPY\x01\x00")
            .map_err(|e| e.to_string())?;
        f.write_all(&(header.len() as u16).to_le_bytes())
            .map_err(|e| e.to_string())?;
        f.write_all(header.as_bytes()).map_err(|e| e.to_string())?;
        f.write_all(bytes).map_err(|e| e.to_string())?;
        f.flush().map_err(|e| e.to_string())?;
    }
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

pub fn write_f32(path: &Path, rows: usize, cols: usize, data: &[f32]) -> IoResult<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    write_npy(path, "<f4", rows, cols, &bytes)
}

pub fn write_i32(path: &Path, rows: usize, cols: usize, data: &[i32]) -> IoResult<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    write_npy(path, "<i4", rows, cols, &bytes)
}

/// Fields of /proc/self/status in bytes (0 where /proc or the field is unavailable).
fn status_bytes<const N: usize>(keys: [&str; N]) -> [u64; N] {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    keys.map(|k| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    })
}

/// (VmRSS, VmHWM) of this process in bytes, from /proc/self/status.
pub fn rss() -> (u64, u64) {
    let [a, b] = status_bytes(["VmRSS:", "VmHWM:"]);
    (a, b)
}

/// (RssAnon, RssFile) of this process in bytes.
pub fn rss_split() -> (u64, u64) {
    let [a, b] = status_bytes(["RssAnon:", "RssFile:"]);
    (a, b)
}
