//! The real `syrinx` binary on good and bad input: every bad file is named with a specific reason, the good
//! files are still processed, outputs appear only for the good ones, and the exit code says something failed.

use std::path::Path;
use std::process::Command;

fn syrinx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_syrinx"))
}

fn write_bad_files(dir: &Path) {
    std::fs::write(dir.join("empty.wav"), b"").expect("write");
    std::fs::write(
        dir.join("noise.mp3"),
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .expect("write");
    // a WAV header claiming 2 GB of data followed by a few bytes
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&u32::MAX.to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&48_000u32.to_le_bytes());
    wav.extend_from_slice(&96_000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&0x7fff_fff0u32.to_le_bytes());
    wav.extend_from_slice(&[0u8; 64]);
    std::fs::write(dir.join("absurd.wav"), wav).expect("write");
}

/// A 4 s 16-bit mono WAV with a chirp, written by hand.
fn write_good_wav(path: &Path) {
    let sr = 22_050u32;
    let n = sr * 4;
    let mut data = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        let t = i as f32 / sr as f32;
        let v = (2.0 * std::f32::consts::PI * (2000.0 * t + 500.0 * t * t)).sin() * 0.5;
        data.extend_from_slice(&((v * 32767.0) as i16).to_le_bytes());
    }
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&sr.to_le_bytes());
    wav.extend_from_slice(&(sr * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    std::fs::write(path, wav).expect("write wav");
}

#[test]
fn info_names_each_bad_file_and_its_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_bad_files(dir.path());
    let out = syrinx()
        .arg("info")
        .args(["empty.wav", "noise.mp3", "absurd.wav"].map(|f| dir.path().join(f)))
        .output()
        .expect("run syrinx");
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad files must make the exit code 1"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.wav: empty file"), "{err}");
    assert!(err.contains("noise.mp3: "), "{err}");
    assert!(err.contains("absurd.wav: "), "{err}");
    assert!(err.contains("3 file(s) failed"), "{err}");
}

#[test]
fn embed_goes_on_past_bad_files_and_writes_only_good_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_bad_files(dir.path());
    write_good_wav(&dir.path().join("chirp.wav"));
    let out_dir = dir.path().join("out");
    let out = syrinx()
        .args(["embed", "--json", "--threads", "1", "--out-dir"])
        .arg(&out_dir)
        .args(["empty.wav", "chirp.wav", "noise.mp3"].map(|f| dir.path().join(f)))
        .output()
        .expect("run syrinx");
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("empty.wav: empty file"), "{err}");
    assert!(err.contains("noise.mp3: "), "{err}");
    // chirp.wav: two windows (0-3 s, 3-4 s padded), each a JSON line, then a summary line
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        lines.iter().filter(|v| v.get("window").is_some()).count(),
        2,
        "{stdout}"
    );
    assert!(
        lines.iter().any(|v| v["done"] == true && v["windows"] == 2),
        "{stdout}"
    );
    let npy = std::fs::read(out_dir.join("chirp.wav.embeddings.npy")).expect("embeddings written");
    assert_eq!(npy.len(), 128 + 2 * 1024 * 4);
    assert!(!out_dir.join("empty.wav.embeddings.npy").exists());
    assert!(!out_dir.join("noise.mp3.embeddings.npy").exists());
    assert!(std::fs::read_dir(&out_dir).expect("out dir").all(|e| {
        !e.expect("entry")
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    }));
}

#[test]
fn a_missing_model_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_good_wav(&dir.path().join("chirp.wav"));
    let out = syrinx()
        .args(["embed", "--model-dir"])
        .arg(dir.path().join("nowhere"))
        .arg(dir.path().join("chirp.wav"))
        .output()
        .expect("run syrinx");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("BirdNET model not found") && err.contains("scripts/setup"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn spectrogram_writes_a_png() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("chirp.wav");
    write_good_wav(&wav);
    let png = dir.path().join("chirp.png");
    let out = syrinx()
        .arg("spectrogram")
        .arg(&wav)
        .arg("--out")
        .arg(&png)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&png).expect("png").starts_with(b"\x89PNG"));
}
