// A failed unwrap here is a failed measurement with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! What the last gate before publish (issue 14) costs on the benchmark's
//! roster: 10,000 players with 20 matches each from `bench/synth.py`,
//! rendered in memory, every artifact scanned for every PIN. A measurement,
//! not a timed assertion: it prints the figures and asserts only what the
//! gate decides (the clean roster passes, one planted PIN is caught).
//!
//!     cargo bench --bench gate_cost

use std::process::Command;
use std::time::{Duration, Instant};

use sheetgen::config::{Config, Env, Source};

use sheetgen::model::{ProblemKind, Snapshot};
use sheetgen::publish::refuse_secrets;
use sheetgen::render::{Artifact, Theme};
use sheetgen::table::RawTables;
use sheetgen_test_support::site::{Site, repo, site_config};

const PLAYERS: usize = 10_000;
const RUNS: usize = 5;

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn main() {
    gate_cost_on_ten_thousand_players();
}

/// CPU time of this process so far (all threads, user + system), from
/// `/proc/self/stat` in clock ticks of 10 ms: on a shared machine the
/// wall time of a parallel step says more about the neighbours.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn gate_cost_on_ten_thousand_players() {
    let site = Site::new();
    let config = synth_site(&site);
    let raw = read_tables(&config);
    let (model, model_cpu) = time_model(&config, &raw);
    let snapshot = Snapshot::build(&config, raw).unwrap();
    // Random 6-digit PINs in the benchmark's roster: no cell shows one.
    let withheld = snapshot
        .problems
        .iter()
        .filter(|p| matches!(p.kind, ProblemKind::PinShown { .. }))
        .count();
    assert_eq!(withheld, 0, "{:?}", snapshot.problems.first());
    assert_eq!(snapshot.players.len(), PLAYERS);
    assert_eq!(snapshot.secrets().len(), PLAYERS);
    let theme = Theme::load(&config.site.templates, config.site.lang.code()).unwrap();
    let started = Instant::now();
    let mut artifacts = sheetgen::render::render(&theme, &snapshot, &config).unwrap();
    let render = started.elapsed();
    let bytes: usize = artifacts.iter().map(|a| a.bytes.len()).sum();
    let (gate, gate_cpu) = time_gate(&artifacts, &snapshot, &config);
    let caught = catch_a_planted_pin(&site, &snapshot, &config, &mut artifacts);

    eprintln!(
        "model (Snapshot::build) median {model:?} of {RUNS} runs, CPU {model_cpu:?} a run; \
         gate over {} artifacts ({:.1} MB) for {} secrets: median {:?} of {RUNS} runs, \
         CPU {gate_cpu:?} a run (render took {render:?}); a planted PIN caught in {caught:?}",
        artifacts.len(),
        bytes as f64 / 1e6,
        snapshot.secrets().len(),
        gate,
    );

    // PINs with letters (`Fox-482913`): the gate also scans each page
    // folded (case, accents).
    give_pins_letters(&site);
    let raw = read_tables(&config);
    let snapshot = Snapshot::build(&config, raw).unwrap();
    let artifacts = sheetgen::render::render(&theme, &snapshot, &config).unwrap();
    let (gate, gate_cpu) = time_gate(&artifacts, &snapshot, &config);
    eprintln!(
        "gate with text PINs (Fox-NNNNNN): median {gate:?} of {RUNS} runs, CPU {gate_cpu:?} a run",
    );
}

/// The benchmark's roster from `bench/synth.py` in `site`, and its config.
fn synth_site(site: &Site) -> Config {
    let synth = repo().join("bench/synth.py");
    let status = Command::new("python3")
        .arg(&synth)
        .args([
            "--players",
            &PLAYERS.to_string(),
            "--matches",
            "20",
            "--out",
        ])
        .arg(site.root())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs bench/synth.py");
    assert!(status.success(), "bench/synth.py failed");
    let text = site_config(
        "Bench",
        None,
        "kind = \"csv\"\n[source.files]\nPlayers = \"players.csv\"\nMatches = \"matches.csv\"\n",
        "private = [\"email\"]\n\n[index]\ncolumns = [\"team\", \"points\"]\nsort_by = \"points\"\n\
         descending = true\n\n[[tables]]\ntab = \"Matches\"\nkey = \"player_id\"\n",
    );
    site.write_config(&text);
    Config::parse(&text, &site.config_path(), &Env::default()).unwrap()
}

fn read_tables(config: &Config) -> RawTables {
    let Source::CsvFiles { files, encoding } = &config.source else {
        panic!("not a CSV config");
    };
    sheetgen::source::file::read_csv_files(files, *encoding, &config.tabs()).unwrap()
}

/// The model asks the index about every cell a page would show (issue
/// 23): timed too, on copies of the same tables. The median, and the CPU
/// time a run.
fn time_model(config: &Config, raw: &RawTables) -> (Duration, Duration) {
    let mut model_times = Vec::new();
    let mut model_cpu = Duration::ZERO;
    for _ in 0..RUNS {
        let raw = raw.clone();
        let (t, cpu) = (Instant::now(), cpu_time());
        let snapshot = Snapshot::build(config, raw).unwrap();
        model_times.push(t.elapsed());
        model_cpu += cpu_time() - cpu;
        drop(snapshot);
    }
    (median(model_times), model_cpu / RUNS as u32)
}

/// The gate over `artifacts`, [`RUNS`] times: the median, and the CPU
/// time a run.
fn time_gate(artifacts: &[Artifact], snapshot: &Snapshot, config: &Config) -> (Duration, Duration) {
    let (tab, column) = (&config.players.tab, &config.players.secret);
    let mut times = Vec::new();
    let cpu = cpu_time();
    for _ in 0..RUNS {
        let t = Instant::now();
        refuse_secrets(artifacts, snapshot.secrets(), tab, column).unwrap();
        times.push(t.elapsed());
    }
    let gate_cpu = (cpu_time() - cpu) / RUNS as u32;
    (median(times), gate_cpu)
}

/// The same gate catches one PIN planted in the last page: how long it
/// took.
fn catch_a_planted_pin(
    site: &Site,
    snapshot: &Snapshot,
    config: &Config,
    artifacts: &mut [Artifact],
) -> Duration {
    let (tab, column) = (&config.players.tab, &config.players.secret);
    let victim = &snapshot.players[PLAYERS / 2];
    let secret_row = victim.row;
    let planted = {
        let mut r = csv::Reader::from_path(site.root().join("players.csv")).unwrap();
        let rec = r.records().nth(secret_row - 2).unwrap().unwrap();
        rec[2].to_string()
    };
    let last = artifacts.last_mut().unwrap();
    last.bytes
        .extend_from_slice(format!("<p>{planted}</p>").as_bytes());
    let t = Instant::now();
    let err = refuse_secrets(artifacts, snapshot.secrets(), tab, column)
        .unwrap_err()
        .to_string();
    let caught = t.elapsed();
    assert!(err.contains(&format!("row {secret_row},")), "{err}");
    assert!(!err.contains(&planted), "{err}");
    caught
}

/// Every PIN of the roster becomes `Fox-` and its digits.
fn give_pins_letters(site: &Site) {
    let text = std::fs::read_to_string(site.root().join("players.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let worded: Vec<String> = std::iter::once(header.to_string())
        .chain(lines.map(|l| {
            let mut cells: Vec<&str> = l.splitn(4, ',').collect();
            let pin = format!("Fox-{}", cells[2]);
            cells[2] = &pin;
            cells.join(",")
        }))
        .collect();
    std::fs::write(site.root().join("players.csv"), worded.join("\n") + "\n").unwrap();
}
