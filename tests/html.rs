//! The HTML report in a real browser: a small experiment with a tuned method, computed with the
//! recording fake backend, its report written by `munl run` (everything cached, so no torch
//! worker), then opened in headless Chromium. The page must load without a console error, and
//! its screenshot must show the tables (the header rows' colour over a wide band near the top)
//! on a page that is not blank.
//!
//! Without Chromium the browser test says it is skipped and passes, unless
//! `MUNL_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The toy experiment with `ft` tuned (8 random trials on seed 0) and an HTML report. The
/// title and a method's name hold characters HTML must escape.
const EXPERIMENT: &str = r#"seeds = 0..2

dataset toy {
  source = synthetic(classes: 4, size: 120, test: 40, shape: [3, 8, 8], seed: 1)
  split  = random(val: 0.15, forget: 0.10, seed: 123)
}

model net = cnn(width: 4)

train original {
  model  = net
  data   = toy.train
  epochs = 2
  batch  = 32
}

train retrained = original { data = toy.retain }

unlearn ft = finetune(original) {
  epochs = 1
  lr     = log_uniform(0.001, 0.1)
  tune   = search(trials: 8, seeds: [0], sampler: random)
}
unlearn ga = gradient_ascent(original)

evaluate bench {
  models    = [original, retrained, ft, ga]
  reference = retrained
  metrics   = [accuracy, mia, indiscernibility, rte, retention]
}

report bench {
  html     = "results/bench.html"
  markdown = "results/bench.md"
}
"#;

/// The colour of the tables' header rows (`--head` in the page's style sheet).
const HEAD: [u8; 3] = [0x1e, 0x4d, 0x78];

/// Computes [`EXPERIMENT`] with the fake backend in a new folder, then lets `munl run` write
/// its report files; the folder and the HTML report's path.
fn rendered() -> (tempfile::TempDir, PathBuf) {
    rendered_from(EXPERIMENT, "bench.munl", "results/bench.html")
}

/// The quickstart's own HTML report, computed with the fake backend on the real MNIST files
/// (`$MUNL_DATA/mnist`, which the engine reads itself); `None` (the test says it skipped that
/// part) without them, unless `MUNL_REQUIRE_DATA` is set.
fn quickstart() -> Option<(tempfile::TempDir, PathBuf)> {
    let root = std::env::var_os("MUNL_DATA").map(PathBuf::from).filter(|r| r.join("mnist").is_dir());
    let Some(root) = root else {
        assert!(
            std::env::var_os("MUNL_REQUIRE_DATA").is_none(),
            "MUNL_REQUIRE_DATA is set but $MUNL_DATA/mnist is not"
        );
        eprintln!("skipped: the quickstart's html report in a browser: $MUNL_DATA/mnist does not exist");
        return None;
    };
    let experiment = include_str!("../experiments/quickstart.munl");
    Some(rendered_in(experiment, "quickstart.munl", "results/quickstart.html", &root))
}

/// Computes `experiment` (named `name`) with the fake backend in a new folder, then lets
/// `munl run` write its report files; the folder and the HTML report's path, `html`.
fn rendered_from(experiment: &str, name: &str, html: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    rendered_at(dir, experiment, name, html, &data)
}

/// [`rendered_from`] with the datasets under `data`.
fn rendered_in(experiment: &str, name: &str, html: &str, data: &Path) -> (tempfile::TempDir, PathBuf) {
    rendered_at(tempfile::tempdir().unwrap(), experiment, name, html, data)
}

fn rendered_at(
    dir: tempfile::TempDir,
    experiment: &str,
    name: &str,
    html: &str,
    data: &Path,
) -> (tempfile::TempDir, PathBuf) {
    let path = dir.path().join(name);
    std::fs::write(&path, experiment).unwrap();
    crate::fake::compute_reports(dir.path(), name, data, &crate::fake::Fake::default());
    // Everything is cached: the torch worker is never started.
    let out = crate::cli::munl_with(
        dir.path(),
        &["run", name, "--device", "cpu"],
        &[("MUNL_WORKER", "/nonexistent/munl-torch"), ("MUNL_DATA", data.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", crate::cli::text(&out.stderr));
    let html = dir.path().join(html);
    assert!(html.is_file(), "no {}", html.display());
    (dir, html)
}

#[test]
fn the_html_report_is_one_self_contained_page() {
    let (_dir, path) = rendered();
    let page = std::fs::read_to_string(&path).unwrap();
    let lower = page.to_ascii_lowercase();
    for bad in ["http://", "https://", "src=", "<script", "<link", "url(", "@import"] {
        assert!(!lower.contains(bad), "{bad} in the page");
    }
    for part in ["<h2>summary: mean ± 95 % CI over 2 seed(s)</h2>", "<h2>ranking</h2>", "<h2>models: values used</h2>"]
    {
        assert!(page.contains(part), "no {part}");
    }
    assert!(page.contains("<h3>search of ft</h3>") && page.contains("<svg class=\"scatter\""));
    assert_eq!(page.matches("<details class=\"seeds\">").count(), 4, "a block per method");
    assert!(page.contains("<figure class=\"plot\">\n<svg "), "the plot inline");
}

/// A report's `html` path must end in `.html`.
#[test]
fn an_html_path_must_end_in_html() {
    for path in ["results/bench.htm", "results/bench.md", "results/bench"] {
        let text = EXPERIMENT.replace("results/bench.html", path);
        let source = munl::Source::new(PathBuf::from("bench.munl"), &text);
        let err = munl::compile(&source, Path::new("/data")).map(|_| ()).map_err(|d| munl::testing::render(&d));
        let err = err.expect_err(path);
        assert!(err.contains("munl::lower::bad_path") && err.contains("must end in `.html`"), "{path}: {err}");
    }
    let text = EXPERIMENT.replace("results/bench.html", "results/BENCH.HTML");
    munl::compile(&munl::Source::new(PathBuf::from("bench.munl"), &text), Path::new("/data")).unwrap();
}

/// The first Chromium (or Chrome) on the `PATH`.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs the browser headless on `page` with `args`, in its own profile folder; killed if it
/// takes more than two minutes (a hung browser fails the test instead of hanging it).
fn browse(browser: &Path, profile: &Path, args: &[&str], page: &Path) -> Output {
    let mut child = Command::new(browser)
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .args(["--force-color-profile=srgb", "--force-device-scale-factor=1"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the browser starts");
    // Read both pipes while it runs, so that a full pipe cannot block it.
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = vec![];
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

/// The page's console errors and uncaught exceptions in the browser's log.
fn console_errors(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("Uncaught") || (l.contains("CONSOLE") && l.contains("ERROR"))).collect()
}

/// An RGB(A) screenshot: width, height, channels, pixels.
struct Shot {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Shot {
    fn read(path: &Path) -> Shot {
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let mut decoder = png::Decoder::new(file);
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        pixels.truncate(info.buffer_size());
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("a screenshot in {other:?}"),
        };
        Shot { width: info.width as usize, height: info.height as usize, channels, pixels }
    }

    fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * self.channels;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// The longest run of pixels of (about) `colour` in row `y`.
    fn run(&self, y: usize, colour: [u8; 3]) -> usize {
        let near = |p: [u8; 3]| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 3);
        let (mut best, mut now) = (0, 0);
        for x in 0..self.width {
            now = if near(self.rgb(x, y)) { now + 1 } else { 0 };
            best = best.max(now);
        }
        best
    }
}

#[test]
fn the_html_report_renders_in_a_browser() {
    let required = std::env::var("MUNL_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let Some(browser) = chromium() else {
        assert!(!required, "MUNL_REQUIRE_BROWSER=1 but no chromium on the PATH");
        println!("skipped: html browser test: chromium not installed");
        return;
    };
    for (title, (dir, page)) in
        [("bench", Some(rendered())), ("bench", quickstart())].into_iter().filter_map(|(t, r)| Some((t, r?)))
    {
        in_the_browser(&browser, title, dir.path(), &page);
    }
}

/// Opens `page` in `browser`: no console error, the parsed page has its title, and the
/// screenshot shows the tables.
fn in_the_browser(browser: &Path, title: &str, dir: &Path, page: &Path) {
    let (browser, page) = (browser.to_path_buf(), page.to_path_buf());
    let profile = dir.join("profile");
    let shot = dir.join("shot.png");

    let dom = browse(&browser, &profile, &["--dump-dom", "--enable-logging=stderr", "--v=0"], &page);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(dom.status.success(), "{log}");
    let errors = console_errors(&log);
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains(&format!("<h1>{title}</h1>")) && dom.contains("<table"), "the parsed page:\n{dom}");

    let out = browse(
        &browser,
        &profile,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2000", "--enable-logging=stderr", "--v=0"],
        &page,
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && shot.is_file(), "{log}");
    let errors = console_errors(&log);
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    if let Some(keep) = std::env::var_os("MUNL_HTML_SCREENSHOT") {
        // To look at: the screenshot, and the page beside it.
        std::fs::copy(&shot, &keep).unwrap();
        std::fs::copy(&page, Path::new(&keep).with_extension("html")).unwrap();
    }

    let img = Shot::read(&shot);
    assert_eq!((img.width, img.height), (1280, 2000));
    // The summary table's header: a band of the header colour, most of the page wide, in the
    // top third (text interrupts a row only where a letter is).
    let top = img.height / 3;
    let bands: Vec<usize> = (0..top).filter(|&y| img.run(y, HEAD) >= 600).collect();
    assert!(bands.len() >= 10, "no table header in the top third: rows with a wide band {bands:?}");
    // More than one table: header colour again further down.
    let lower = (top..img.height).filter(|&y| img.run(y, HEAD) >= 200).count();
    assert!(lower >= 10, "one table only");
    // Not blank: many pixels differ from the background, in many colours.
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0;
    for y in (0..img.height).step_by(2) {
        for x in (0..img.width).step_by(2) {
            let p = img.rgb(x, y);
            colours.insert(p);
            inked += usize::from(p != [255, 255, 255]);
        }
    }
    let share = inked as f64 / ((img.width / 2) * (img.height / 2)) as f64;
    assert!(share > 0.05, "a blank page: {share:.3} of it inked");
    assert!(colours.len() > 50, "{} colours only", colours.len());
}
