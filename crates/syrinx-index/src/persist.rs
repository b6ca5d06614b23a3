//! On-disk layout: a directory with `MANIFEST.json` (the commit point) and the files it names.
//!
//! - `vectors-<seq>.f32|f16`: append-only raw rows (see `store.rs`);
//! - `codes-<seq>.bin`: append-only RaBitQ records, `stride` little-endian u64 per vector;
//! - `excodes-<seq>.bin`: append-only extended (4-bit) RaBitQ records, memory-mapped (see
//!   `excode.rs`), rewritten under a new name when all codes are re-encoded;
//! - `graph-<seq>.bin`: graph + tombstones, rewritten on every commit under a new name;
//! - `MANIFEST.json`: format version, parameters, `generation` (incremented by every commit),
//!   counts, centroid, and for each file its name, committed byte length and CRC-32.
//!
//! A commit fsyncs the appended/new files, then writes the manifest to a temporary file, fsyncs it,
//! renames it over `MANIFEST.json` and fsyncs the directory. A crash at any point leaves either the
//! previous or the new manifest, and each names files whose committed prefix is intact.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IndexError, Result};
use crate::filter::Bitset;
use crate::graph::{Graph, NO_UPPER};
use crate::IndexParams;

/// Manifest file name.
pub const MANIFEST: &str = "MANIFEST.json";
/// Format identifier.
pub const FORMAT: &str = "syrinx-index";
/// Format version written and read by this build.
pub const VERSION: u32 = 1;
const GRAPH_MAGIC: &[u8; 8] = b"SYRXGRF1";
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// A file named by the manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRef {
    /// File name inside the index directory.
    pub name: String,
    /// Committed length in bytes (the file may be longer after a crash; the tail is ignored).
    pub bytes: u64,
    /// CRC-32 (IEEE) of the committed bytes.
    pub crc32: u32,
}

/// The manifest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `"syrinx-index"`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Monotonic commit counter (for agreement checks with an external catalog).
    pub generation: u64,
    /// Creation parameters.
    pub params: IndexParams,
    /// Padded dimension (code bits).
    pub padded_dim: usize,
    /// Number of ids assigned (live + deleted).
    pub count: u64,
    /// Number of deleted ids.
    pub deleted: u64,
    /// Centroid subtracted before rotation.
    pub centroid: Vec<f32>,
    /// Number of vectors the centroid was computed from.
    pub centroid_count: u64,
    /// Counter for naming new files.
    pub file_seq: u64,
    /// Vector file.
    pub vectors: FileRef,
    /// Code file (None while empty).
    pub codes: Option<FileRef>,
    /// Extended-code file (absent when `params.ex_bits` is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excodes: Option<FileRef>,
    /// Largest squared norm of a stored vector (inner-product indexes: the graph is built in the
    /// MIPS-to-L2 augmented space, see `build`). Absent in older manifests: recomputed on demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_norm2: Option<f32>,
    /// Graph file.
    pub graph: FileRef,
    /// CRC-32 of this manifest serialised (pretty JSON) with this field set to 0.
    #[serde(default)]
    pub crc32: u32,
}

impl Manifest {
    /// Every file the manifest names.
    pub fn files(&self) -> impl Iterator<Item = &FileRef> {
        [
            Some(&self.vectors),
            self.codes.as_ref(),
            self.excodes.as_ref(),
            Some(&self.graph),
        ]
        .into_iter()
        .flatten()
    }

    fn self_crc(&self) -> Result<u32> {
        let mut m = self.clone();
        m.crc32 = 0;
        let bytes = serde_json::to_vec_pretty(&m)
            .map_err(|e| IndexError::InvalidParam(format!("manifest serialisation: {e}")))?;
        Ok(crc32fast::hash(&bytes))
    }

    /// Serialise with the self-checksum filled in.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut m = self.clone();
        m.crc32 = self.self_crc()?;
        serde_json::to_vec_pretty(&m)
            .map_err(|e| IndexError::InvalidParam(format!("manifest serialisation: {e}")))
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |e| IndexError::io(path, e)
}

/// fsync a directory so that renames in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

/// Write `bytes` to `dir/name` atomically: temp file, fsync, rename, fsync dir.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let dst = dir.join(name);
    {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    fs::rename(&tmp, &dst).map_err(io_err(&dst))?;
    sync_dir(dir)
}

/// Read and validate the manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let meta = match fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(IndexError::NotFound(dir.to_path_buf()))
        }
        Err(e) => return Err(IndexError::io(&path, e)),
    };
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(IndexError::corrupt(&path, "manifest too large"));
    }
    let bytes = fs::read(&path).map_err(io_err(&path))?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| IndexError::corrupt(&path, format!("invalid manifest: {e}")))?;
    if m.format != FORMAT {
        return Err(IndexError::corrupt(
            &path,
            format!("unknown format {:?}", m.format),
        ));
    }
    if m.version != VERSION {
        return Err(IndexError::Version {
            found: m.version,
            supported: VERSION,
        });
    }
    let found = m.self_crc()?;
    if found != m.crc32 {
        return Err(IndexError::Checksum {
            path,
            expected: m.crc32,
            found,
        });
    }
    for f in m.files() {
        if f.name.contains('/')
            || f.name.contains('\\')
            || f.name.starts_with('.')
            || f.name.is_empty()
        {
            return Err(IndexError::corrupt(
                &path,
                format!("bad file name {:?}", f.name),
            ));
        }
    }
    Ok(m)
}

/// Read exactly the committed prefix of a file into u64 words and check its CRC.
pub fn read_words(dir: &Path, f: &FileRef) -> Result<Vec<u64>> {
    let path = dir.join(&f.name);
    if !f.bytes.is_multiple_of(8) {
        return Err(IndexError::corrupt(&path, "length is not a multiple of 8"));
    }
    let mut file = File::open(&path).map_err(io_err(&path))?;
    let len = file.metadata().map_err(io_err(&path))?.len();
    if len < f.bytes {
        return Err(IndexError::corrupt(
            &path,
            format!("truncated: {len} bytes, manifest needs {}", f.bytes),
        ));
    }
    let words =
        usize::try_from(f.bytes / 8).map_err(|_| IndexError::corrupt(&path, "too large"))?;
    let mut v = vec![0u64; words];
    crate::store::advise_huge_pages(&v);
    file.read_exact(bytemuck::cast_slice_mut(&mut v))
        .map_err(io_err(&path))?;
    let found = crc32fast::hash(bytemuck::cast_slice(&v));
    if found != f.crc32 {
        return Err(IndexError::Checksum {
            path,
            expected: f.crc32,
            found,
        });
    }
    Ok(v)
}

/// Append `bytes` to `dir/name` after truncating it to `committed` bytes; fsync.
pub fn append_file(dir: &Path, name: &str, committed: u64, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    let mut f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    f.set_len(committed).map_err(io_err(&path))?;
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(committed))
        .map_err(io_err(&path))?;
    f.write_all(bytes).map_err(io_err(&path))?;
    f.sync_all().map_err(io_err(&path))
}

fn push_u32s(out: &mut Vec<u8>, it: impl Iterator<Item = u32>) {
    for x in it {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn pad8(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
}

/// Serialise graph and tombstones.
pub fn graph_bytes(g: &Graph, deleted: &Bitset) -> Vec<u8> {
    let n = g.len();
    let mut out = Vec::with_capacity(64 + n * (1 + 4 + 4 * (1 + g.m0)) + 4 * g.upper.len() + n / 8);
    out.extend_from_slice(GRAPH_MAGIC);
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&(g.m as u32).to_le_bytes());
    out.extend_from_slice(&(g.m0 as u32).to_le_bytes());
    out.extend_from_slice(&(g.upper.len() as u64).to_le_bytes());
    let (eid, elev) = match g.entry() {
        Some((id, l)) => (id, l as u32),
        None => (u32::MAX, u32::MAX),
    };
    out.extend_from_slice(&eid.to_le_bytes());
    out.extend_from_slice(&elev.to_le_bytes());
    out.extend_from_slice(&g.levels);
    pad8(&mut out);
    push_u32s(&mut out, g.level0_raw());
    push_u32s(&mut out, g.upper_off.iter().copied());
    push_u32s(&mut out, g.upper_raw());
    pad8(&mut out);
    for w in deleted.words() {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| IndexError::corrupt(self.path, "graph file truncated"))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn pad8(&mut self) -> Result<()> {
        let r = (8 - self.pos % 8) % 8;
        self.take(r).map(|_| ())
    }
    fn u32s(&mut self, n: usize) -> Result<Vec<u32>> {
        let bytes = n
            .checked_mul(4)
            .ok_or_else(|| IndexError::corrupt(self.path, "size overflow"))?;
        let src = self.take(bytes)?;
        let mut v = vec![0u32; n];
        // The neighbour lists are read at random by every search: huge pages, before the copy.
        crate::store::advise_huge_pages(&v);
        bytemuck::cast_slice_mut::<u32, u8>(&mut v).copy_from_slice(src);
        Ok(v)
    }
}

/// Read, checksum, parse and fully validate the graph file.
pub fn read_graph(dir: &Path, f: &FileRef, expect_n: usize, m: usize) -> Result<(Graph, Bitset)> {
    let path = dir.join(&f.name);
    let mut file = File::open(&path).map_err(io_err(&path))?;
    let len = file.metadata().map_err(io_err(&path))?.len();
    if len != f.bytes {
        return Err(IndexError::corrupt(
            &path,
            format!("size {len} bytes, manifest says {}", f.bytes),
        ));
    }
    let mut b = Vec::with_capacity(len as usize);
    file.read_to_end(&mut b).map_err(io_err(&path))?;
    let found = crc32fast::hash(&b);
    if found != f.crc32 {
        return Err(IndexError::Checksum {
            path,
            expected: f.crc32,
            found,
        });
    }
    let bad = |r: &str| IndexError::corrupt(&path, r.to_string());
    let mut c = Cursor {
        b: &b,
        pos: 0,
        path: &path,
    };
    if c.take(8)? != GRAPH_MAGIC {
        return Err(bad("bad magic"));
    }
    let n = c.u64()? as usize;
    let gm = c.u32()? as usize;
    let m0 = c.u32()? as usize;
    let upper_slots = c.u64()? as usize;
    let eid = c.u32()?;
    let elev = c.u32()?;
    if n != expect_n {
        return Err(bad("node count differs from manifest"));
    }
    if gm != m || m0 != 2 * m {
        return Err(bad("degree parameters differ from manifest"));
    }
    let levels = c.take(n)?.to_vec();
    c.pad8()?;
    let level0 = c.u32s(n.checked_mul(1 + m0).ok_or_else(|| bad("size overflow"))?)?;
    let upper_off = c.u32s(n)?;
    let upper = c.u32s(upper_slots)?;
    c.pad8()?;
    let words_n = n.div_ceil(64);
    let wb = c.take(words_n * 8)?;
    let words: Vec<u64> = bytemuck::pod_collect_to_vec(wb);
    if c.pos != b.len() {
        return Err(bad("trailing bytes"));
    }
    // Validate structure: levels, canonical upper offsets, counts and link targets.
    let mut off = 0usize;
    for i in 0..n {
        let l = levels[i] as usize;
        if l > 16 {
            return Err(bad("level out of range"));
        }
        if l == 0 {
            if upper_off[i] != NO_UPPER {
                return Err(bad("upper offset on a level-0 node"));
            }
        } else {
            if upper_off[i] as usize != off {
                return Err(bad("upper offsets inconsistent"));
            }
            off += l;
        }
    }
    if off * (1 + m) != upper_slots {
        return Err(bad("upper block count inconsistent"));
    }
    let check_lists = |slots: &[u32], stride: usize| -> Result<()> {
        for list in slots.chunks_exact(stride) {
            let cnt = list[0] as usize;
            if cnt > stride - 1 {
                return Err(bad("neighbour count above capacity"));
            }
            if list[1..1 + cnt].iter().any(|&x| x as usize >= n) {
                return Err(bad("neighbour id out of range"));
            }
        }
        Ok(())
    };
    check_lists(&level0, 1 + m0)?;
    check_lists(&upper, 1 + m)?;
    let entry = if eid == u32::MAX {
        if n != 0 {
            return Err(bad("missing entry point"));
        }
        None
    } else {
        if eid as usize >= n || levels[eid as usize] as u32 != elev {
            return Err(bad("entry point invalid"));
        }
        Some((eid, elev as u8))
    };
    let deleted = Bitset::from_words(words, n).ok_or_else(|| bad("tombstone size"))?;
    Ok((
        Graph::from_parts(m, m0, levels, level0, upper_off, upper, entry),
        deleted,
    ))
}
