//! The desktop the end-to-end tests run in: a private Xvfb display, a private PulseAudio server
//! with a null sink whose monitor is the default microphone, and WebKitWebDriver. Every process
//! is killed when its guard drops (also when a test fails).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Proc {
    name: &'static str,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.name;
    }
}

pub fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(4444)
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while !ok() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Start Xvfb on a free display; returns the guard and the DISPLAY value.
pub fn xvfb(width: u32, height: u32) -> Result<(Proc, String), String> {
    let n = (90..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .ok_or("no free X display number")?;
    let child = Command::new("Xvfb")
        .arg(format!(":{n}"))
        .args([
            "-screen",
            "0",
            &format!("{width}x{height}x24"),
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start Xvfb: {e}"))?;
    let p = Proc {
        name: "Xvfb",
        child,
    };
    wait_until("the Xvfb socket", Duration::from_secs(10), || {
        Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
    })?;
    Ok((p, format!(":{n}")))
}

/// Start a private PulseAudio daemon: a null sink `syrinx_sink` (48 kHz) is the default output,
/// and its monitor is the default input, so what is played into the sink is what a microphone
/// records. Returns the guard and the PULSE_SERVER value.
pub fn pulseaudio(dir: &Path) -> Result<(Proc, String), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let sock = dir.join("native");
    let conf = dir.join("pulse.pa");
    std::fs::write(
        &conf,
        format!(
            "load-module module-native-protocol-unix auth-anonymous=1 socket={}\n\
             load-module module-null-sink sink_name=syrinx_sink rate=48000 channels=2\n\
             set-default-sink syrinx_sink\n\
             set-default-source syrinx_sink.monitor\n",
            sock.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new("pulseaudio")
        .args(["-n", "-F"])
        .arg(&conf)
        .args([
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--disallow-exit=yes",
            "--log-target=stderr",
        ])
        .env("HOME", dir)
        .env("PULSE_RUNTIME_PATH", dir.join("rt"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start pulseaudio: {e}"))?;
    let p = Proc {
        name: "pulseaudio",
        child,
    };
    let server = format!("unix:{}", sock.display());
    wait_until("the PulseAudio socket", Duration::from_secs(10), || {
        sock.exists()
            && Command::new("pactl")
                .arg("info")
                .env("PULSE_SERVER", &server)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
    })?;
    Ok((p, server))
}

/// Start WebKitWebDriver on a free port with this environment (the app it launches inherits it).
pub fn webdriver(envs: &[(String, String)], log: &Path) -> Result<(Proc, u16), String> {
    let port = free_port();
    let logf = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut cmd = Command::new("WebKitWebDriver");
    cmd.arg(format!("--port={port}"))
        .stdout(logf.try_clone().map_err(|e| e.to_string())?)
        .stderr(logf);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start WebKitWebDriver: {e}"))?;
    let p = Proc {
        name: "WebKitWebDriver",
        child,
    };
    wait_until("WebKitWebDriver's port", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })?;
    Ok((p, port))
}

/// Play a file into the PulseAudio sink (what the virtual microphone hears).
pub fn paplay(server: &str, file: &Path) -> Result<Proc, String> {
    let child = Command::new("paplay")
        .args(["--device=syrinx_sink", "--latency-msec=20"])
        .arg(file)
        .env("PULSE_SERVER", server)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start paplay: {e}"))?;
    Ok(Proc {
        name: "paplay",
        child,
    })
}

/// Record `seconds` of the sink's monitor as raw s16le mono 48 kHz (what the app played).
pub fn parec_for(server: &str, seconds: f64) -> Result<Vec<i16>, String> {
    let mut child = Command::new("parec")
        .args([
            "--device=syrinx_sink.monitor",
            "--format=s16le",
            "--rate=48000",
            "--channels=1",
            "--latency-msec=20",
        ])
        .env("PULSE_SERVER", server)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start parec: {e}"))?;
    let mut out = child.stdout.take().ok_or("no parec stdout")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut buf);
        buf
    });
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let _ = child.kill();
    let _ = child.wait();
    let bytes = reader.join().map_err(|_| "parec reader panicked")?;
    Ok(bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}
