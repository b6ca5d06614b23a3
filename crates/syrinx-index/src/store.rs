//! Full-precision vectors in an append-only file, memory-mapped and read only to rerank
//! (and during graph construction); the same row-file mechanism holds the extended codes.
//!
//! Two read paths: the mapping, for graph construction and the float re-scoring walk (thousands of
//! rows per operation), and positional reads (`pread`) for the final rerank of a search (~16 rows).
//! The rerank goes through `pread` because a page fault on a mapped file maps more than the page
//! it needs: with the file in the page cache, Linux maps the surrounding cached pages too
//! (fault-around, 64 KB per fault, more with large folios), `MADV_RANDOM` or not. A process that
//! only searches would then show the whole float file in its resident set after a few thousand
//! queries; `pread` copies the 4 KB it needs and maps nothing. The index takes that path only
//! when its files would not all fit in its memory budget beside the resident part (at 1M x 1024:
//! 4 GB of floats against 2 GB); when they fit (e.g. 100k vectors: ~0.5 GB in all), the rerank
//! reads through the mapping too, which saves a system call per row.
//!
//! File format: raw little-endian rows, `dim` f32 or IEEE f16 values each, no header; the manifest
//! records the number of committed rows and the CRC-32 of their bytes. Bytes beyond the committed
//! rows (left by a crash between an append and the next commit) are ignored and truncated before
//! the next append, so committed bytes are never rewritten.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};
use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::metric::Metric;

#[cfg(target_endian = "big")]
compile_error!("syrinx-index files are little-endian; big-endian targets are not supported");

/// Precision of the memory-mapped vector file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// 4 bytes per component (exact rerank).
    #[default]
    F32,
    /// 2 bytes per component (half the file; rerank distances rounded to f16 inputs).
    F16,
}

impl StoreKind {
    /// Bytes per component.
    pub fn bytes(self) -> usize {
        match self {
            StoreKind::F32 => 4,
            StoreKind::F16 => 2,
        }
    }
}

/// Append-only file of fixed-size byte rows, memory-mapped (shared by the vector file and the
/// extended-code file). Rows beyond the committed count are truncated before the next append.
#[derive(Debug)]
pub(crate) struct RowFile {
    path: PathBuf,
    file: File,
    row_bytes: usize,
    map: Option<Mmap>,
    rows: usize,
    committed_rows: usize,
    committed_crc: u32,
}

impl RowFile {
    /// Create a new empty file (fails if it exists).
    pub fn create(path: &Path, row_bytes: usize) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| IndexError::io(path, e))?;
        Ok(RowFile {
            path: path.to_path_buf(),
            file,
            row_bytes,
            map: None,
            rows: 0,
            committed_rows: 0,
            committed_crc: 0,
        })
    }

    /// Open an existing file holding at least `rows` committed rows.
    pub fn open(path: &Path, row_bytes: usize, rows: usize, crc: u32) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| IndexError::io(path, e))?;
        let len = file.metadata().map_err(|e| IndexError::io(path, e))?.len();
        let need = (rows as u64)
            .checked_mul(row_bytes as u64)
            .ok_or_else(|| IndexError::corrupt(path, "row count overflows"))?;
        if len < need {
            return Err(IndexError::corrupt(
                path,
                format!("truncated: {len} bytes, manifest needs {need}"),
            ));
        }
        let mut s = RowFile {
            path: path.to_path_buf(),
            file,
            row_bytes,
            map: None,
            rows,
            committed_rows: rows,
            committed_crc: crc,
        };
        s.remap()?;
        Ok(s)
    }

    fn remap(&mut self) -> Result<()> {
        let bytes = self.rows * self.row_bytes;
        self.map = if bytes == 0 {
            None
        } else {
            // SAFETY: the mapping covers bytes that exist in the file (checked against its length
            // on open, or just written by `append`). This process only appends beyond the mapped
            // range and never truncates it; the index directory must not be modified by other
            // processes while it is open (documented on `Index`).
            let map = unsafe { MmapOptions::new().len(bytes).map(&self.file) }
                .map_err(|e| IndexError::io(&self.path, e))?;
            #[cfg(unix)]
            {
                // Rerank reads are random: do not read ahead.
                let _ = map.advise(memmap2::Advice::Random);
            }
            #[cfg(target_os = "linux")]
            {
                // Map 2 MB page-cache folios with one page-table entry each: the search reads
                // extended-code rows at random across the whole file, and with 4 KB entries
                // nearly every row was a TLB miss (1M, ef 5: 10.4-10.6k QPS with 4 KB entries,
                // 10.9-11.5k with 2 MB ones). Linux does so for folios that are 2 MB already
                // (see `AlignedChunks`); with this advice, a fault that reads the file from disk
                // also reads 2 MB folios (Linux >= 6.16 on ext4, with other file systems that
                // support large folios; elsewhere a no-op).
                let _ = map.advise(memmap2::Advice::HugePage);
            }
            Some(map)
        };
        Ok(())
    }

    /// Append rows with `write(row_index, writer)` producing `row_bytes` each, then remap.
    /// Returns the first new row.
    pub fn append_with(
        &mut self,
        count: usize,
        mut write: impl FnMut(usize, &mut dyn Write) -> std::io::Result<()>,
    ) -> Result<usize> {
        let first = self.rows;
        let start = (self.rows * self.row_bytes) as u64;
        // Drop any uncommitted tail left by a crash or by an earlier failed append.
        self.map = None;
        self.file
            .set_len(start)
            .map_err(|e| IndexError::io(&self.path, e))?;
        let mut f = &self.file;
        use std::io::Seek;
        f.seek(std::io::SeekFrom::Start(start))
            .map_err(|e| IndexError::io(&self.path, e))?;
        let mut w = AlignedChunks::new(f, start);
        for i in 0..count {
            write(i, &mut w).map_err(|e| IndexError::io(&self.path, e))?;
        }
        w.flush().map_err(|e| IndexError::io(&self.path, e))?;
        drop(w);
        self.rows += count;
        self.remap()?;
        Ok(first)
    }

    /// Forget uncommitted rows beyond `rows`; the file tail is truncated by the next append.
    pub fn rollback(&mut self, rows: usize) -> Result<()> {
        if rows < self.rows {
            self.rows = rows.max(self.committed_rows);
            self.remap()?;
        }
        Ok(())
    }

    /// Make appended rows durable and fold them into the running CRC. Returns (rows, bytes, crc).
    pub fn commit(&mut self) -> Result<(usize, u64, u32)> {
        self.file
            .sync_all()
            .map_err(|e| IndexError::io(&self.path, e))?;
        let a = self.committed_rows * self.row_bytes;
        let b = self.rows * self.row_bytes;
        self.committed_crc = self.crc_of(a as u64, b as u64, self.committed_crc)?;
        self.committed_rows = self.rows;
        Ok((self.rows, b as u64, self.committed_crc))
    }

    /// CRC-32 (continued from `init`) of bytes `a..b` of the file, read in chunks with positional
    /// reads: through the mapping, a full check of a 4 GB float file would leave all of it in
    /// the process's resident set (see the module docs).
    fn crc_of(&self, a: u64, b: u64, init: u32) -> Result<u32> {
        let mut h = crc32fast::Hasher::new_with_initial(init);
        let mut buf = vec![0u8; (b - a).min(4 << 20) as usize];
        let mut off = a;
        while off < b {
            let n = ((b - off) as usize).min(buf.len());
            read_at(&self.file, &mut buf[..n], off).map_err(|e| IndexError::io(&self.path, e))?;
            h.update(&buf[..n]);
            off += n as u64;
        }
        Ok(h.finalize())
    }

    /// Recompute the CRC of the committed rows and compare with the manifest's.
    pub fn verify(&self) -> Result<()> {
        let b = (self.committed_rows * self.row_bytes) as u64;
        let found = self.crc_of(0, b, 0)?;
        if found != self.committed_crc {
            return Err(IndexError::Checksum {
                path: self.path.clone(),
                expected: self.committed_crc,
                found,
            });
        }
        Ok(())
    }

    /// Number of rows (committed or not).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// File path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// File name (empty if not valid UTF-8, which names created here always are).
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string()
    }

    /// Mapped bytes.
    pub fn mapped_bytes(&self) -> usize {
        self.rows * self.row_bytes
    }

    /// Copy row `i` into `buf` (exactly `row_bytes` long) with a positional read, without
    /// touching the mapping. Returns `Ok(false)` if `i` is out of range.
    pub fn read_row(&self, i: u32, buf: &mut [u8]) -> Result<bool> {
        if i as usize >= self.rows || buf.len() != self.row_bytes {
            return Ok(false);
        }
        let off = i as u64 * self.row_bytes as u64;
        read_at(&self.file, buf, off).map_err(|e| IndexError::io(&self.path, e))?;
        Ok(true)
    }

    /// Start fetching every cache line of row `i` through the mapping (a hint; nothing if out of
    /// range).
    #[inline]
    pub fn prefetch_row(&self, i: u32) {
        crate::simd::prefetch(self.row(i), usize::MAX);
    }

    /// Row `i` (empty if out of range).
    #[inline]
    pub fn row(&self, i: u32) -> &[u8] {
        let a = i as usize * self.row_bytes;
        match &self.map {
            Some(m) if a + self.row_bytes <= m.len() => &m[a..a + self.row_bytes],
            _ => &[],
        }
    }
}

/// Size and alignment of the writes of [`AlignedChunks`]: a huge page on x86-64 and aarch64.
const CHUNK: u64 = 2 << 20;

/// A buffered writer whose writes end on multiples of [`CHUNK`] in the file (the first may be
/// shorter, to reach the first boundary). A buffered write of a whole aligned 2 MB range lets
/// Linux keep it in the page cache as one 2 MB folio, which a mapping of the file can then map
/// with a single page-table entry (see `RowFile::remap`); `BufWriter`'s 1 MB writes left 1 MB
/// folios, mapped with 4 KB entries.
struct AlignedChunks<W: Write> {
    inner: W,
    /// File offset of `buf[0]`.
    off: u64,
    buf: Vec<u8>,
}

impl<W: Write> AlignedChunks<W> {
    fn new(inner: W, off: u64) -> Self {
        AlignedChunks {
            inner,
            off,
            buf: Vec::with_capacity(CHUNK as usize),
        }
    }

    /// Bytes from `off` to the next chunk boundary.
    fn room(&self) -> usize {
        (CHUNK - self.off % CHUNK) as usize
    }
}

impl<W: Write> Write for AlignedChunks<W> {
    fn write(&mut self, mut data: &[u8]) -> std::io::Result<usize> {
        let n = data.len();
        while !data.is_empty() {
            let take = (self.room() - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == self.room() {
                self.inner.write_all(&self.buf)?;
                self.off += self.buf.len() as u64;
                self.buf.clear();
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.write_all(&self.buf)?;
        self.off += self.buf.len() as u64;
        self.buf.clear();
        self.inner.flush()
    }
}

/// Fill `buf` from `file` at `off` without moving a shared cursor (`pread` on Unix).
fn read_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, off)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let n = file.seek_read(&mut buf[done..], off + done as u64)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}

/// Append-only, memory-mapped vector file.
#[derive(Debug)]
pub struct VectorStore {
    rows: RowFile,
    kind: StoreKind,
    dim: usize,
}

impl VectorStore {
    /// Create a new empty file (fails if it exists).
    pub fn create(path: &Path, kind: StoreKind, dim: usize) -> Result<Self> {
        Ok(VectorStore {
            rows: RowFile::create(path, dim * kind.bytes())?,
            kind,
            dim,
        })
    }

    /// Open an existing file holding at least `rows` committed rows.
    pub fn open(path: &Path, kind: StoreKind, dim: usize, rows: usize, crc: u32) -> Result<Self> {
        Ok(VectorStore {
            rows: RowFile::open(path, dim * kind.bytes(), rows, crc)?,
            kind,
            dim,
        })
    }

    /// Append rows (each `dim` long, already validated), then remap. Returns the first new row.
    pub fn append<'a>(&mut self, rows: impl ExactSizeIterator<Item = &'a [f32]>) -> Result<usize> {
        let kind = self.kind;
        let count = rows.len();
        let mut rows = rows;
        let mut hbuf: Vec<u16> = Vec::new();
        self.rows.append_with(count, |_, w| {
            let Some(r) = rows.next() else {
                return Err(std::io::Error::other("row iterator ended early"));
            };
            match kind {
                StoreKind::F32 => w.write_all(bytemuck::cast_slice(r)),
                StoreKind::F16 => {
                    hbuf.clear();
                    hbuf.extend(r.iter().map(|&x| half::f16::from_f32(x).to_bits()));
                    w.write_all(bytemuck::cast_slice(&hbuf))
                }
            }
        })
    }

    /// Forget uncommitted rows beyond `rows` (after a failed batch); the file tail is truncated
    /// by the next append.
    pub fn rollback(&mut self, rows: usize) -> Result<()> {
        self.rows.rollback(rows)
    }

    /// Make appended rows durable and fold them into the running CRC. Returns (rows, bytes, crc).
    pub fn commit(&mut self) -> Result<(usize, u64, u32)> {
        self.rows.commit()
    }

    /// Recompute the CRC of the committed rows and compare with the manifest's.
    pub fn verify(&self) -> Result<()> {
        self.rows.verify()
    }

    /// Number of rows (committed or not).
    pub fn rows(&self) -> usize {
        self.rows.rows()
    }

    /// File path.
    pub fn path(&self) -> &Path {
        self.rows.path()
    }

    /// Mapped bytes.
    pub fn mapped_bytes(&self) -> usize {
        self.rows.mapped_bytes()
    }

    /// Start fetching row `i` through the mapping (a hint; nothing if out of range).
    #[inline]
    pub fn prefetch_row(&self, i: u32) {
        self.rows.prefetch_row(i);
    }

    /// Exact distance between a prepared query and row `i` (`INFINITY` if `i` is out of range).
    #[inline]
    pub fn distance(&self, metric: Metric, q: &[f32], i: u32) -> f32 {
        let b = self.rows.row(i);
        if b.is_empty() {
            return f32::INFINITY;
        }
        row_distance(self.kind, metric, q, b)
    }

    /// `(<q, x_i>, |x_i|^2)` for row `i` through the mapping (`None` if out of range).
    #[inline]
    pub fn ip_and_norm2(&self, q: &[f32], i: u32) -> Option<(f32, f32)> {
        let b = self.rows.row(i);
        if b.is_empty() {
            return None;
        }
        match self.kind {
            StoreKind::F32 => {
                let x = bytemuck::try_cast_slice::<u8, f32>(b).ok()?;
                Some((crate::simd::dot_f32(q, x), crate::simd::dot_f32(x, x)))
            }
            StoreKind::F16 => {
                let mut v = Vec::with_capacity(self.dim);
                decode_row(self.kind, b, &mut v);
                Some((crate::simd::dot_f32(q, &v), crate::simd::dot_f32(&v, &v)))
            }
        }
    }

    /// Exact distance between a prepared query and row `i`, read with a positional read into
    /// `scratch` instead of through the mapping (see the module docs). `INFINITY` if `i` is out
    /// of range; an I/O error is returned, not turned into a distance.
    pub fn distance_read(
        &self,
        metric: Metric,
        q: &[f32],
        i: u32,
        scratch: &mut Vec<u64>,
    ) -> Result<f32> {
        let nb = self.dim * self.kind.bytes();
        scratch.resize(nb.div_ceil(8), 0);
        let bytes = &mut bytemuck::cast_slice_mut::<u64, u8>(scratch)[..nb];
        if !self.rows.read_row(i, bytes)? {
            return Ok(f32::INFINITY);
        }
        // The u64 scratch keeps the bytes 8-aligned, so the casts in `row_distance` cannot fail.
        Ok(row_distance(self.kind, metric, q, bytes))
    }

    /// [`VectorStore::read_into`] through a positional read (for single rows read at query time;
    /// see the module docs). Returns `Ok(false)` if `i` is out of range.
    pub fn read_copy(&self, i: u32, out: &mut Vec<f32>) -> Result<bool> {
        out.clear();
        let mut b = vec![0u8; self.dim * self.kind.bytes()];
        if !self.rows.read_row(i, &mut b)? {
            return Ok(false);
        }
        decode_row(self.kind, &b, out);
        Ok(out.len() == self.dim)
    }

    /// Copy row `i` as f32 into `out` (cleared first). Returns false if `i` is out of range.
    pub fn read_into(&self, i: u32, out: &mut Vec<f32>) -> bool {
        out.clear();
        let b = self.rows.row(i);
        if b.is_empty() {
            return false;
        }
        decode_row(self.kind, b, out);
        out.len() == self.dim
    }
}

/// Exact distance between a prepared query and one row's bytes (`INFINITY` if misaligned).
#[inline]
fn row_distance(kind: StoreKind, metric: Metric, q: &[f32], b: &[u8]) -> f32 {
    match kind {
        StoreKind::F32 => match bytemuck::try_cast_slice::<u8, f32>(b) {
            Ok(x) => metric.distance_f32(q, x),
            Err(_) => f32::INFINITY,
        },
        StoreKind::F16 => match bytemuck::try_cast_slice::<u8, u16>(b) {
            Ok(x) => metric.distance_f16(q, x),
            Err(_) => f32::INFINITY,
        },
    }
}

/// Append one row's bytes to `out` as f32.
fn decode_row(kind: StoreKind, b: &[u8], out: &mut Vec<f32>) {
    match kind {
        StoreKind::F32 => out.extend(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        StoreKind::F16 => out.extend(
            b.chunks_exact(2)
                .map(|c| half::f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32()),
        ),
    }
}

/// Read `path` once into the OS page cache, in order, stopping early when `stop` is set; returns
/// the bytes read. Nothing stays in this process. On Linux the file is read through a
/// short-lived mapping advised for huge pages, so that the page cache fills with 2 MB folios that
/// the index's own mapping then maps with one page-table entry each (see `RowFile::remap`);
/// plain `read`s fill it with folios no larger than the device's read-ahead (128 KB on many
/// laptops' disks). Elsewhere, or where that fails, it reads the file in 4 MB pieces.
pub fn warm_page_cache_file(path: &Path, stop: &std::sync::atomic::AtomicBool) -> Result<u64> {
    use std::io::{Read, Seek};
    use std::sync::atomic::Ordering::Relaxed;
    let io = |e| IndexError::io(path, e);
    let mut f = File::open(path).map_err(io)?;
    #[cfg(target_os = "linux")]
    {
        let len = f.metadata().map_err(io)?.len() as usize;
        if len > 0 {
            // SAFETY: a read-only mapping of a file this process does not write while warming;
            // it is only advised (MADV_POPULATE_READ reports a range beyond a concurrently
            // truncated end as an error instead of raising SIGBUS), never dereferenced here.
            if let Ok(map) = unsafe { MmapOptions::new().len(len).map(&f) } {
                let _ = map.advise(memmap2::Advice::HugePage);
                const STEP: usize = 32 << 20;
                let mut off = 0;
                while off < len {
                    if stop.load(Relaxed) {
                        return Ok(off as u64);
                    }
                    let n = STEP.min(len - off);
                    if map
                        .advise_range(memmap2::Advice::PopulateRead, off, n)
                        .is_err()
                    {
                        break;
                    }
                    off += n;
                }
                if off >= len {
                    return Ok(len as u64);
                }
                // MADV_POPULATE_READ needs Linux 5.14: read the rest.
                f.seek(std::io::SeekFrom::Start(off as u64)).map_err(io)?;
            }
        }
    }
    let mut total = f.stream_position().map_err(io)?;
    let mut buf = vec![0u8; 4 << 20];
    loop {
        if stop.load(Relaxed) {
            return Ok(total);
        }
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

/// Ask the kernel to back the 2 MB-aligned interior of `v`'s allocation (its whole capacity)
/// with transparent huge pages: the walk's random reads of the codes and the neighbour lists
/// each missed the TLB with 4 KB pages. A hint (Linux only; nothing happens where THP is
/// disabled). Pages already touched stay small until the kernel collapses them, so call it
/// before filling a new allocation.
pub(crate) fn advise_huge_pages<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
        let (a, e) = (start.div_ceil(HUGE) * HUGE, end / HUGE * HUGE);
        if e > a {
            // SAFETY: [a, e) lies inside this Vec's live allocation; MADV_HUGEPAGE only sets
            // how the range is backed and never changes its contents. Failure is harmless.
            unsafe {
                libc::madvise(a as *mut libc::c_void, e - a, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the size of every write it receives.
    #[derive(Default)]
    struct Sizes {
        bytes: Vec<u8>,
        writes: Vec<usize>,
    }

    impl Write for Sizes {
        fn write(&mut self, d: &[u8]) -> std::io::Result<usize> {
            self.bytes.extend_from_slice(d);
            self.writes.push(d.len());
            Ok(d.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn warming_reads_the_whole_file_or_stops() {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.bin");
        // More than one 32 MB populate step, not a multiple of it.
        let data: Vec<u8> = (0..(33 << 20) + 4321).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let stop = AtomicBool::new(false);
        assert_eq!(
            warm_page_cache_file(&path, &stop).unwrap(),
            data.len() as u64
        );
        assert_eq!(std::fs::read(&path).unwrap(), data, "only read");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(warm_page_cache_file(&path, &stop).unwrap(), 0);
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(
            warm_page_cache_file(&empty, &AtomicBool::new(false)).unwrap(),
            0
        );
        let err = warm_page_cache_file(&dir.path().join("missing"), &AtomicBool::new(false));
        assert!(err.unwrap_err().to_string().contains("missing"));
    }

    #[test]
    fn aligned_chunks_end_on_chunk_boundaries() {
        let c = CHUNK as usize;
        for start in [0u64, 1000, CHUNK - 1, CHUNK, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..5 * c + 333).map(|i| (i * 7 % 251) as u8).collect();
            let mut w = AlignedChunks::new(Sizes::default(), start);
            // Uneven pieces, as rows of any size arrive.
            for piece in data.chunks(4100) {
                w.write_all(piece).unwrap();
            }
            w.flush().unwrap();
            let s = &w.inner;
            assert_eq!(s.bytes, data, "start {start}");
            let mut off = start;
            for (i, &n) in s.writes.iter().enumerate() {
                off += n as u64;
                if i + 1 < s.writes.len() {
                    assert_eq!(off % CHUNK, 0, "start {start}: write {i} ends at {off}");
                    assert!(n <= c);
                }
            }
            assert_eq!(off, start + data.len() as u64);
        }
    }

    fn rows(n: usize, dim: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|i| {
                (0..dim)
                    .map(|j| ((i * 31 + j * 7) % 13) as f32 - 6.0)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn positional_reads_agree_with_the_mapping() {
        let dir = tempfile::tempdir().unwrap();
        for (kind, name) in [(StoreKind::F32, "f32.bin"), (StoreKind::F16, "f16.bin")] {
            // An odd dimension, so an f16 row is not a whole number of u64 words.
            let dim = 37;
            let data = rows(50, dim);
            let mut s = VectorStore::create(&dir.path().join(name), kind, dim).unwrap();
            s.append(data.iter().map(|r| r.as_slice())).unwrap();
            let q: Vec<f32> = (0..dim).map(|j| j as f32 / 10.0).collect();
            let mut scratch = Vec::new();
            for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
                for i in 0..50u32 {
                    let a = s.distance(metric, &q, i);
                    let b = s.distance_read(metric, &q, i, &mut scratch).unwrap();
                    assert_eq!(a.to_bits(), b.to_bits(), "{kind:?} {metric:?} row {i}");
                }
                // Out of range: infinite, as through the mapping.
                assert_eq!(
                    s.distance_read(metric, &q, 50, &mut scratch).unwrap(),
                    f32::INFINITY
                );
            }
            // Rows appended but not yet committed are readable too (a batch reranks before commit).
            s.append(data[..3].iter().map(|r| r.as_slice())).unwrap();
            let b = s.distance_read(Metric::L2, &q, 52, &mut scratch).unwrap();
            assert_eq!(b.to_bits(), s.distance(Metric::L2, &q, 52).to_bits());
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for i in 0..53u32 {
                assert!(s.read_into(i, &mut a));
                assert!(s.read_copy(i, &mut b).unwrap());
                assert_eq!(a, b);
            }
            assert!(!s.read_copy(53, &mut b).unwrap());
        }
    }
}
