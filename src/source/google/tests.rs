//! The Sheets API's unit tests: URLs, answers, errors, tokens.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;
use crate::config::Secret;

/// Recorded Sheets API bodies, kept in the repository (tests/fixtures/).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sheets");

/// A recorded body; a missing or unreadable fixture fails the test.
#[track_caller]
fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(FIXTURES).join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read the fixture {}: {e}", path.display()))
}

fn tabs(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A batchGet body made of the single-range fixtures (`values:get`
/// answers are the same objects as batchGet's `valueRanges` items).
#[track_caller]
fn batch_of(names: &[&str]) -> Vec<u8> {
    let ranges: Vec<Value> = names
        .iter()
        .map(|n| {
            serde_json::from_slice(&fixture(n))
                .unwrap_or_else(|e| panic!("the fixture {n} is not JSON: {e}"))
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"spreadsheetId": "x", "valueRanges": ranges}))
        .unwrap_or_else(|e| panic!("cannot encode the batch: {e}"))
}

#[test]
fn a1_quoting() {
    assert_eq!(a1_sheet_name("Players"), "Players");
    assert_eq!(a1_sheet_name("Match_2024"), "Match_2024");
    assert_eq!(a1_sheet_name("My Tab"), "'My Tab'");
    assert_eq!(a1_sheet_name("Bob's"), "'Bob''s'");
    assert_eq!(a1_sheet_name("Équipes"), "'Équipes'");
    assert_eq!(a1_sheet_name("2024"), "'2024'");
    assert_eq!(a1_sheet_name("A1"), "'A1'");
    assert_eq!(a1_sheet_name("AB"), "'AB'");
    assert_eq!(a1_sheet_name("R1C1"), "'R1C1'");
    assert_eq!(a1_sheet_name("C3"), "'C3'");
    assert_eq!(a1_sheet_name("Results"), "Results");
    assert_eq!(a1_sheet_name("Scores!"), "'Scores!'");
}

#[test]
fn batch_get_url_encodes_and_quotes() {
    let url = batch_get_url(
        "http://h/",
        "abc-_1",
        &tabs(&["Players", "My Tab", "Bob's"]),
    );
    assert_eq!(
        url,
        "http://h/v4/spreadsheets/abc-_1/values:batchGet?ranges=Players&ranges=%27My%20Tab%27&ranges=%27Bob%27%27s%27&majorDimension=ROWS&valueRenderOption=FORMATTED_VALUE"
    );
}

#[test]
fn header_rows_and_metadata_urls() {
    let ranges = tabs(&["Players", "My Tab"])
        .into_iter()
        .map(|t| format!("{}!1:5", a1_sheet_name(&t)));
    assert_eq!(
        batch_get_url_of("http://h", "abc", ranges),
        "http://h/v4/spreadsheets/abc/values:batchGet?ranges=Players%211%3A5&ranges=%27My%20Tab%27%211%3A5&majorDimension=ROWS&valueRenderOption=FORMATTED_VALUE"
    );
    assert_eq!(
        metadata_url("http://h/", "abc-_1"),
        "http://h/v4/spreadsheets/abc-_1?fields=sheets.properties"
    );
}

#[test]
fn lists_the_tabs_of_the_recorded_metadata() {
    let t = parse_sheet_tabs(&fixture("spreadsheets_get_metadata.json")).unwrap();
    assert_eq!(
        t,
        [SheetTab {
            title: "Sheet1".into(),
            sheet_type: "GRID".into()
        }]
    );
    // With fields=sheets.properties: only `sheets`, in any order; a
    // chart on a sheet of its own is OBJECT; no index counts as 0.
    let body = br#"{"sheets":[{"properties":{"sheetId":7,"title":"Matches","index":2,"sheetType":"GRID"}},{"properties":{"sheetId":0,"title":"Players","sheetType":"GRID"}},{"properties":{"sheetId":9,"title":"Chart","index":1,"sheetType":"OBJECT"}}]}"#;
    let t = parse_sheet_tabs(body).unwrap();
    let titles: Vec<&str> = t.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Players", "Chart", "Matches"]);
    assert_eq!(t[1].sheet_type, "OBJECT");
    assert!(
        parse_sheet_tabs(b"<html>Sign in</html>")
            .unwrap_err()
            .contains("HTML")
    );
    assert!(parse_sheet_tabs(b"{}").unwrap_err().contains("sheets"));
    let untitled = br#"{"sheets":[{"properties":{"index":0}}]}"#;
    assert!(parse_sheet_tabs(untitled).unwrap_err().contains("title"));
}

#[test]
fn parses_formatted_sparse_and_empty_ranges_from_the_fixtures() {
    let body = batch_of(&[
        "values_get_formatted_rows.json",
        "values_get_sparse_rows.json",
        "extra/values_get_empty_range.json",
    ]);
    let t = parse_batch_get(&body, &tabs(&["A", "B", "C"])).unwrap();
    let a = &t.tabs["A"];
    assert_eq!(a.header, ["Item", "Cost", "Stocked", "Ship Date"]);
    assert_eq!(a.rows.len(), 4);
    assert_eq!(a.rows[0].number, 2);
    assert_eq!(a.rows[0].cells, ["Wheel", "$20.50", "4", "3/1/2016"]);
    assert_eq!(a.origin, ORIGIN);

    let b = &t.tabs["B"];
    assert_eq!(b.header, ["A1", "B1", "", "D1"]);
    // The `[]` rows are padded blank rows; row numbers stay true.
    assert_eq!(b.rows.len(), 3);
    assert!(b.rows[0].is_blank() && b.rows[1].is_blank());
    assert_eq!(b.rows[2].number, 4);
    assert_eq!(b.rows[2].cells, ["A4", "B4", "", "D4"]);

    let c = &t.tabs["C"];
    assert!(c.header.is_empty() && c.rows.is_empty());
}

#[test]
fn unformatted_numbers_are_text() {
    let body = batch_of(&["extra/values_get_unformatted_serial.json"]);
    let t = parse_batch_get(&body, &tabs(&["S"])).unwrap();
    assert_eq!(t.tabs["S"].header, ["2", "43831", "string", "53"]);
    assert_eq!(t.tabs["S"].rows[0].cells, ["1.5", "0.12", "36162", ""]);
}

#[test]
fn header_only_tab_and_trailing_cells() {
    let body = br#"{"valueRanges":[{"range":"'My Tab'!A1:Z1000","values":[["id","name","pin"],["1","Al"]]},{"range":"M!A1:Z1","values":[["id"]]}]}"#;
    let t = parse_batch_get(body, &tabs(&["My Tab", "M"])).unwrap();
    assert_eq!(t.tabs["My Tab"].rows[0].cells, ["1", "Al", ""]);
    assert_eq!(t.tabs["M"].header, ["id"]);
    assert!(t.tabs["M"].rows.is_empty());
}

#[test]
fn rejects_what_is_not_the_sheets_api_without_quoting_cells() {
    let t = tabs(&["P"]);
    let html = b"<!DOCTYPE html><html>Sign in</html>";
    assert!(parse_batch_get(html, &t).unwrap_err().contains("HTML"));
    let cut = br#"{"valueRanges":[{"range":"P!A1","values":[["id","pin"],["1","SECRET9"#;
    assert!(
        parse_batch_get(cut, &t)
            .unwrap_err()
            .contains("not valid JSON")
    );
    let wrong = br#"{"valueRanges":[{"values":"SECRET9"}]}"#;
    let e = parse_batch_get(wrong, &t).unwrap_err();
    assert!(
        e.contains("not an array of arrays") && !e.contains("SECRET9"),
        "{e}"
    );
    let rows = br#"{"valueRanges":[{"values":["id","SECRET9"]}]}"#;
    let e = parse_batch_get(rows, &t).unwrap_err();
    assert!(
        e.contains("not an array of cells") && !e.contains("SECRET9"),
        "{e}"
    );
    let count = br#"{"valueRanges":[]}"#;
    assert!(parse_batch_get(count, &t).is_err());
    assert!(parse_batch_get(b"{}", &t).is_err());
}

fn answer(status: u16, name: &str) -> http::Answer {
    http::Answer {
        status,
        content_type: "application/json; charset=UTF-8".into(),
        body: fixture(name),
        attempts: 1,
    }
}

fn explained(status: u16, name: &str, auth: AuthKind<'_>) -> String {
    let tabs = tabs(&["Players", "Matches"]);
    explain(&answer(status, name), auth, "SHEETID", &tabs, "u").to_string()
}

#[test]
fn google_errors_become_advice() {
    let sa = AuthKind::ServiceAccount {
        client_email: "gen@p.iam.gserviceaccount.com",
    };
    let e = explained(403, "error_403_permission_denied.json", sa);
    assert!(
        e.contains("share the sheet with gen@p.iam.gserviceaccount.com"),
        "{e}"
    );
    let e = explained(403, "error_403_permission_denied.json", AuthKind::ApiKey);
    assert!(
        e.contains("the sheet is not link-readable, or the key is restricted"),
        "{e}"
    );
    let e = explained(
        403,
        "extra/error_403_service_disabled.json",
        AuthKind::ApiKey,
    );
    assert!(e.contains("not enabled"), "{e}");
    let e = explained(404, "extra/error_404_not_found.json", AuthKind::ApiKey);
    assert!(
        e.contains("check spreadsheet_id") && e.contains("SHEETID"),
        "{e}"
    );
    let e = explained(429, "error_429_resource_exhausted.json", AuthKind::ApiKey);
    assert!(e.contains("300 reads per minute per project"), "{e}");
    assert!(e.contains("60 per minute per user"), "{e}");
    let e = explained(
        400,
        "error_400_unable_to_parse_range.json",
        AuthKind::ApiKey,
    );
    assert!(e.contains("no tab named 'NOPE'"), "{e}");
    assert!(e.contains("tabs are case-sensitive"), "{e}");
}

#[test]
fn tab_of_an_echoed_range() {
    assert_eq!(sheet_of_range("NOPE!A5:F15"), "NOPE");
    assert_eq!(sheet_of_range("'Bob''s tab'!A1:Z9"), "Bob's tab");
    assert_eq!(sheet_of_range("Players"), "Players");
}

#[test]
fn a_bad_range_names_the_configured_tab() {
    let body = br#"{"error":{"code":400,"message":"Unable to parse range: 'My Tab'","status":"INVALID_ARGUMENT"}}"#;
    let a = http::Answer {
        status: 400,
        content_type: "application/json".into(),
        body: body.to_vec(),
        attempts: 1,
    };
    let e = explain(
        &a,
        AuthKind::ApiKey,
        "x",
        &tabs(&["Players", "My Tab"]),
        "u",
    )
    .to_string();
    assert!(e.contains("no tab named 'My Tab'"), "{e}");
}

fn sheet_tabs(grids: &[&str], charts: &[&str]) -> Vec<SheetTab> {
    let tab = |title: &&str, sheet_type: &str| SheetTab {
        title: title.to_string(),
        sheet_type: sheet_type.into(),
    };
    let grids = grids.iter().map(|t| tab(t, "GRID"));
    grids
        .chain(charts.iter().map(|t| tab(t, "OBJECT")))
        .collect()
}

/// The missing tab of Google's answer to a batchGet of `Players` and
/// `asked`, explained with the tabs `grids` and `charts`.
#[track_caller]
fn missing(asked: &str, grids: &[&str], charts: &[&str]) -> Option<String> {
    let body = serde_json::json!({"error": {"code": 400, "message": format!("Unable to parse range: {}", a1_sheet_name(asked)), "status": "INVALID_ARGUMENT"}});
    let a = http::Answer {
        status: 400,
        content_type: "application/json".into(),
        body: body.to_string().into_bytes(),
        attempts: 1,
    };
    let Some(m) = missing_range(&a, &tabs(&["Players", asked])) else {
        panic!("not seen as a missing tab: {body}");
    };
    assert_eq!(m.tab, asked);
    missing_tab_message(&m, &sheet_tabs(grids, charts))
}

#[test]
fn a_missing_tab_is_told_with_the_tabs_there_are() {
    let e = missing("Matchs", &["Players", "Matches"], &["Chart 1"]).unwrap();
    assert_eq!(
        e,
        "no tab named 'Matchs' in the spreadsheet (tabs are case-sensitive; its tabs are: Players, Matches). Did you mean \"Matches\"? Rename the tab in the sheet, or change the tab name in the config (Google said: INVALID_ARGUMENT \"Unable to parse range: Matchs\")"
    );
    let e = missing("My tab", &["Players", "My Tab"], &[]).unwrap();
    assert!(
            e.contains("its tabs are: Players, My Tab). \"My tab\" differs from the tab \"My Tab\" only in case. Rename"),
            "{e}"
        );
    assert!(e.contains("Unable to parse range: 'My tab'"), "{e}");
    let e = missing("Results", &["Players", "Matches"], &[]).unwrap();
    assert!(
        e.contains("its tabs are: Players, Matches). Rename the tab"),
        "{e}"
    );
    let e = missing("Chart 1", &["Players"], &["Chart 1"]).unwrap();
    assert!(
        e.contains("its tabs are: Players). \"Chart 1\" is a chart on a sheet of its own"),
        "{e}"
    );
    // A listing that has the tab after all contradicts Google: the
    // first explanation stands.
    assert_eq!(missing("Matches", &["Players", "Matches"], &[]), None);
}

#[tokio::test]
async fn a_failed_listing_keeps_the_first_explanation() {
    // Nothing listens on port 1: the listing cannot even connect.
    let g = GoogleSource {
        spreadsheet_id: "SHEETID".into(),
        api_base: "http://127.0.0.1:1".into(),
        api_key: Some(Secret::new("AIzaCANARY-unit".into())),
        credentials: None,
        drive_api_base: "http://127.0.0.1:1".into(),
        drive_photos: false,
    };
    let opts = HttpOptions {
        max_attempts: 1,
        ..HttpOptions::default()
    };
    let client = http::client(&opts).unwrap();
    let first = SourceError::Google {
        status: 400,
        message: "no tab named 'Matchs' in the spreadsheet (tabs are case-sensitive): FIRST".into(),
        share_with: None,
    };
    let missing = MissingRange {
        status: 400,
        tab: "Matchs".into(),
        said: "(Google said: INVALID_ARGUMENT \"Unable to parse range: Matchs\")".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let e = with_the_tabs(
        &client,
        &opts,
        &TokenCache::default(),
        &g,
        first,
        missing,
        deadline,
    )
    .await;
    assert!(
        matches!(e, SourceError::Google { status: 400, .. }),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "Google Sheets answered HTTP 400: no tab named 'Matchs' in the spreadsheet (tabs are case-sensitive): FIRST"
    );
}

#[test]
fn only_unable_to_parse_range_is_a_missing_tab() {
    let t = tabs(&["Players", "Matches"]);
    let m = missing_range(&answer(400, "error_400_unable_to_parse_range.json"), &t).unwrap();
    assert_eq!(m.tab, "NOPE");
    assert!(m.said.contains("Google said:"), "{}", m.said);
    for (status, name) in [
        (403, "error_403_permission_denied.json"),
        (429, "error_429_resource_exhausted.json"),
        (404, "extra/error_404_not_found.json"),
    ] {
        assert!(missing_range(&answer(status, name), &t).is_none(), "{name}");
    }
    let html = http::Answer {
        status: 400,
        content_type: "text/html".into(),
        body: b"<html>Unable to parse range</html>".to_vec(),
        attempts: 1,
    };
    assert!(missing_range(&html, &t).is_none());
}

#[test]
fn html_errors_and_5xx() {
    let html = http::Answer {
        status: 404,
        content_type: "text/html".into(),
        body: b"<html>nope</html>".to_vec(),
        attempts: 1,
    };
    let e = explain(&html, AuthKind::ApiKey, "x", &[], "http://h/x?key=***").to_string();
    assert!(
        e.contains("Google answered something that is not the Sheets API"),
        "{e}"
    );
    assert!(e.contains("text/html") && e.contains("404"), "{e}");
    let bad_gateway = http::Answer {
        status: 502,
        attempts: 4,
        ..html
    };
    let e = explain(&bad_gateway, AuthKind::ApiKey, "x", &[], "u").to_string();
    assert!(e.contains("HTTP 502") && e.contains("4 time(s)"), "{e}");
}

#[test]
fn key_file_errors_never_quote_the_key() {
    let p = Path::new("k.json");
    let e = ServiceAccountKey::parse(p, br#"{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nCANARYKEY\n-----END PRIVATE KEY-----\n"}"#)
            .unwrap_err();
    assert!(!e.contains("CANARYKEY"), "{e}");
    let e = ServiceAccountKey::parse(
        p,
        br#"{"type":"service_account","client_email":"a@b","private_key":42}"#,
    )
    .unwrap_err();
    assert!(e.contains("private_key"), "{e}");
    let e = ServiceAccountKey::parse(p, br#"{"type":"authorized_user"}"#).unwrap_err();
    assert!(e.contains("service_account"), "{e}");
    let e = ServiceAccountKey::parse(p, b"{\"private_key\": \"CANARYKEY").unwrap_err();
    assert!(!e.contains("CANARYKEY"), "{e}");
}
