//! A streaming writer of 2-D float32 `.npy` files: rows are appended as they come and the header (whose
//! length is fixed up front) is rewritten with the final row count, so memory does not grow with the file.
//! The file is written under a temporary name and renamed into place when complete.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const HEADER_LEN: usize = 128; // magic + version + len + dict, padded; a multiple of 64

pub struct NpyWriter {
    file: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    cols: usize,
    rows: u64,
}

fn header(rows: u64, cols: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    h.extend_from_slice(&((HEADER_LEN - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    while h.len() < HEADER_LEN - 1 {
        h.push(b' ');
    }
    h.push(b'\n');
    h
}

impl NpyWriter {
    pub fn create(path: &Path, cols: usize) -> std::io::Result<Self> {
        let tmp = path.with_extension("npy.partial");
        let mut file = BufWriter::new(File::create(&tmp)?);
        file.write_all(&header(0, cols))?;
        Ok(NpyWriter {
            file,
            tmp,
            path: path.to_path_buf(),
            cols,
            rows: 0,
        })
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn push(&mut self, row: &[f32]) -> std::io::Result<()> {
        if row.len() != self.cols {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "row length differs from columns",
            ));
        }
        for v in row {
            self.file.write_all(&v.to_le_bytes())?;
        }
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<u64> {
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&header(self.rows, self.cols))?;
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_parsable() {
        let h = header(123_456_789, 1024);
        assert_eq!(h.len(), HEADER_LEN);
        let text = std::str::from_utf8(&h[10..]).expect("ascii");
        assert!(text.contains("'shape': (123456789, 1024)"));
    }

    #[test]
    fn writes_rows_and_final_shape() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.npy");
        let mut w = NpyWriter::create(&p, 3).expect("create");
        w.push(&[1.0, 2.0, 3.0]).expect("push");
        w.push(&[4.0, 5.0, 6.0]).expect("push");
        assert_eq!(w.finish().expect("finish"), 2);
        let bytes = std::fs::read(&p).expect("read");
        assert_eq!(bytes.len(), HEADER_LEN + 6 * 4);
        assert!(std::str::from_utf8(&bytes[10..HEADER_LEN])
            .expect("ascii")
            .contains("(2, 3)"));
        assert_eq!(
            f32::from_le_bytes([bytes[128], bytes[129], bytes[130], bytes[131]]),
            1.0
        );
    }
}
