//! `gen build`: one cycle (fetch → render → publish), then exit; the
//! organiser's page says what it did, failed or not.

use crate::config::Config;
use crate::error::Error;
use crate::{cycle, findings, organiser, source};

pub(crate) async fn build(
    config: &Config,
    fetcher: &source::Fetcher,
    allow_mass_removal: bool,
) -> Result<(), Error> {
    let ran = cycle::run(
        config,
        fetcher,
        &mut cycle::CycleMemory::one_shot(),
        cycle::CycleOptions {
            allow_mass_removal,
            persist: false,
        },
    )
    .await;
    // The organiser's page says what this build did, failed or not.
    let mut board = organiser::Board::default();
    let report = match ran {
        Ok(report) => {
            board.succeeded(config, &report.snapshot, &report.problems, true);
            board.publish_logged(config, Some(&report.snapshot));
            report
        }
        Err(e) => {
            if config.site.out_dir.is_dir() {
                board.failed(config, &e);
                board.publish_logged(config, None);
            }
            return Err(e);
        }
    };
    let w = crate::i18n::words(config.site.lang);
    for p in &report.problems {
        let args = [("where", p.place(w).into()), ("message", p.say(w).into())];
        eprintln!("{}", w.say("check-warning", &args));
    }
    let weak = report
        .problems
        .iter()
        .filter(|p| {
            matches!(
                findings::Kind::of(p),
                findings::Kind::WeakPin | findings::Kind::LostZero
            )
        })
        .count();
    if weak > 0 {
        eprintln!("{}", w.say("build-weak-pins", &[("count", weak.into())]));
    }
    // The summary stays in English, one line of plain digits: scripts
    // read it (bench/build.sh), as they read `gen config get`.
    let r = report.publish;
    println!(
        "published {} players to {}: {} files written, {} unchanged, {} removed ({} ms)",
        report.snapshot.players.len(),
        config.site.out_dir.display(),
        r.written,
        r.unchanged,
        r.removed,
        (report.fetch + report.render + report.write).as_millis(),
    );
    println!(
        "open {} (or serve that folder with nginx)",
        config.site.out_dir.join("index.html").display()
    );
    Ok(())
}
