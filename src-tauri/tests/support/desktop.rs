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

/// Run one `xdotool` command line (XTest: real pointer events) on `display`.
pub fn xdotool(display: &str, args: &[String]) -> Result<(), String> {
    let st = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run xdotool: {e}"))?;
    st.success()
        .then_some(())
        .ok_or_else(|| format!("xdotool {args:?} failed: {st}"))
}

/// Files dragged from another X client into the app's window, through the real XDND protocol:
/// `drag_source.py` (GTK 3, system Python) offers them as `text/uri-list`, as a file manager
/// does, and xdotool moves the pointer.
pub struct FileDrag {
    _proc: Proc,
    display: String,
    at: (i32, i32),
    lines: std::sync::mpsc::Receiver<String>,
}

impl FileDrag {
    /// Show the source window at `at` (top left; it is 72 x 72) offering `files`.
    pub fn start(
        display: &str,
        files: &[PathBuf],
        list: &Path,
        at: (i32, i32),
    ) -> Result<Self, String> {
        let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
        std::fs::write(list, text).map_err(|e| e.to_string())?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/drag_source.py");
        // The system Python: python3-gi is a Debian package, not a pip one.
        let python = ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .unwrap_or("python3");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(list)
            .args([at.0.to_string(), at.1.to_string()])
            .env("DISPLAY", display)
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the drag source: {e}"))?;
        let out = child.stdout.take().ok_or("no drag source stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let d = FileDrag {
            _proc: Proc {
                name: "drag_source.py",
                child,
            },
            display: display.to_string(),
            at,
            lines: rx,
        };
        d.expect_line("ready", Duration::from_secs(15))?;
        Ok(d)
    }

    fn expect_line(&self, prefix: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Ok(l),
                Ok(_) => {}
                Err(_) => {
                    return Err(format!(
                        "the drag source did not say {prefix:?} in {timeout:?}"
                    ))
                }
            }
        }
    }

    /// Press on the source and move, in steps, to `to` (screen coordinates): the drag is over
    /// the target window but not dropped yet.
    pub fn hover(&self, to: (i32, i32)) -> Result<(), String> {
        let (sx, sy) = (self.at.0 + 36, self.at.1 + 36);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        xdotool(
            &self.display,
            &s(&["mousemove", "--sync", &sx.to_string(), &sy.to_string()]),
        )?;
        std::thread::sleep(Duration::from_millis(200));
        xdotool(&self.display, &s(&["mousedown", "1"]))?;
        // Past GTK's drag threshold first, then across to the target in a few steps.
        for i in 1..=8 {
            let x = sx + (to.0 - sx) * i / 8;
            let y = sy + (to.1 - sy) * i / 8;
            xdotool(
                &self.display,
                &s(&["mousemove", &x.to_string(), &y.to_string()]),
            )?;
            std::thread::sleep(Duration::from_millis(60));
        }
        xdotool(
            &self.display,
            &s(&[
                "mousemove",
                &(to.0 + 3).to_string(),
                &(to.1 + 3).to_string(),
            ]),
        )?;
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    }

    /// Release the button (the drop); returns once the target has taken the data, with the
    /// number of files sent.
    pub fn drop_here(&self) -> Result<usize, String> {
        xdotool(&self.display, &["mouseup".to_string(), "1".to_string()])?;
        let sent = self.expect_line("sent", Duration::from_secs(15))?;
        let _ = self.expect_line("end", Duration::from_secs(15));
        sent.trim_start_matches("sent")
            .trim()
            .parse()
            .map_err(|e| format!("drag source said {sent:?}: {e}"))
    }
}

/// Answer a native GTK file chooser titled `title` (a separate X window) the way a user does:
/// click into it, type `path` into its location bar, press Enter. Waits up to 15 s for it.
/// A folder is chosen with a trailing `/` (Enter then takes it, as GTK completes it so).
pub fn answer_file_chooser(display: &str, title: &str, path: &str) -> Result<(), String> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let deadline = Instant::now() + Duration::from_secs(15);
    let win = loop {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", title])
            .env("DISPLAY", display)
            .output()
            .map_err(|e| format!("cannot run xdotool: {e}"))?;
        let id = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(str::to_string);
        if let Some(id) = id {
            break id;
        }
        if Instant::now() > deadline {
            return Err(format!("no window titled {title:?} appeared"));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let geo = Command::new("xdotool")
        .args(["getwindowgeometry", "--shell", &win])
        .env("DISPLAY", display)
        .output()
        .map_err(|e| format!("cannot run xdotool: {e}"))?;
    let geo = String::from_utf8_lossy(&geo.stdout).to_string();
    let val = |k: &str| -> i32 {
        geo.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let (x, y) = (val("X") + val("WIDTH") / 2, val("Y") + val("HEIGHT") / 2);
    std::thread::sleep(Duration::from_millis(500));
    xdotool(
        display,
        &s(&["mousemove", "--sync", &x.to_string(), &y.to_string()]),
    )?;
    xdotool(display, &s(&["click", "1"]))?;
    std::thread::sleep(Duration::from_millis(300));
    // The first "/" opens the location bar; what is typed before it is shown would be lost.
    xdotool(display, &s(&["type", "/"]))?;
    std::thread::sleep(Duration::from_millis(700));
    // The rest in one burst: typed slowly, GTK's inline completion (run when idle) races the
    // keys and mangles the path.
    let rest = path.trim_start_matches('/');
    xdotool(display, &s(&["type", "--delay", "0", rest]))?;
    std::thread::sleep(Duration::from_millis(700));
    xdotool(display, &s(&["key", "Return"]))
}
