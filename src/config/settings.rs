//! The settings catalogue: every key of `site.toml`, what it holds in the
//! organiser's words and an example, as ripgrep's `flags/defs.rs` lists its
//! flags. [`super::explain`] words a refused file from it.

/// What a key's value must look like; decides the fix a message proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Text,
    WholeNumber,
    Number,
    YesNo,
    List,
    OneOf(&'static [&'static str]),
    /// `[name]`, or `[[tables]]`: `example` is then a whole sentence.
    Section,
}

/// One key of `site.toml`: its dotted name (`tables.key` for every
/// `[[tables]]`, `source.files.*` for any tab under `[source.files]`),
/// what it holds in plain words, and an example value as it is written.
pub(super) struct Setting {
    pub(super) key: &'static str,
    pub(super) shape: Shape,
    pub(super) what: &'static str,
    pub(super) example: &'static str,
}

pub(super) const fn setting(
    key: &'static str,
    shape: Shape,
    what: &'static str,
    example: &'static str,
) -> Setting {
    Setting {
        key,
        shape,
        what,
        example,
    }
}

/// Every key the raw types above accept, with the words a message uses for
/// it. A unit test holds this list and the raw types to the same keys.
pub(super) const SETTINGS: &[Setting] = &[
    setting(
        "site",
        Shape::Section,
        "a section with the site's title and folders",
        "a line [site], then title = \"FC Example\" on the next line",
    ),
    setting(
        "site.title",
        Shape::Text,
        "the site's name, in double quotes",
        "\"FC Example\"",
    ),
    setting(
        "site.lang",
        Shape::OneOf(&["en", "fr"]),
        "\"en\" or \"fr\" (the language of the pages)",
        "\"fr\"",
    ),
    setting(
        "site.out_dir",
        Shape::Text,
        "a folder name, in double quotes",
        "\"public\"",
    ),
    setting(
        "site.templates",
        Shape::Text,
        "optional: a folder of your own theme files, in double quotes; each file in it replaces the built-in theme's file of that name (`gen theme export FOLDER` copies the built-in theme out to start from)",
        "\"theme\"",
    ),
    setting(
        "site.state_dir",
        Shape::Text,
        "a folder name, in double quotes",
        "\".sheetgen\"",
    ),
    setting(
        "site.refresh_secs",
        Shape::WholeNumber,
        "a whole number of seconds",
        "30",
    ),
    setting(
        "site.timezone",
        Shape::Text,
        "a time zone name from the IANA list, in double quotes: the pages' \"data as of\" time is shown in it",
        "\"Europe/Paris\"",
    ),
    setting(
        "site.contact",
        Shape::Text,
        "how players reach the organiser about a forgotten PIN (an e-mail or a phone number), in double quotes; shown on the login page",
        "\"coach@club.example\"",
    ),
    setting(
        "site.visibility",
        Shape::OneOf(&["public", "players"]),
        "\"public\" (anyone may read the roster and photos) or \"players\" (only logged-in players may; then run gen nginx again and reload nginx)",
        "\"players\"",
    ),
    setting(
        "source",
        Shape::Section,
        "a section saying where the sheet is",
        "a line [source], then kind = \"csv\" on the next line",
    ),
    setting(
        "source.kind",
        Shape::OneOf(&["google", "csv", "xlsx"]),
        "\"google\", \"csv\" or \"xlsx\"",
        "\"csv\"",
    ),
    setting(
        "source.spreadsheet_id",
        Shape::Text,
        "the id in the sheet's web address (between /d/ and /edit), in double quotes",
        "\"1AbCdEf\"",
    ),
    setting(
        "source.api_base",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://sheets.googleapis.com\"",
    ),
    setting(
        "source.drive_api_base",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://www.googleapis.com\"",
    ),
    setting(
        "source.api_key",
        Shape::Text,
        "the Google API key, in double quotes",
        "\"AIza…\"",
    ),
    setting(
        "source.credentials",
        Shape::Text,
        "a file name, in double quotes",
        "\"service-account.json\"",
    ),
    setting(
        "source.path",
        Shape::Text,
        "a file name, in double quotes",
        "\"roster.xlsx\"",
    ),
    setting(
        "source.url",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://docs.google.com/spreadsheets/d/e/…/pub?output=csv\"",
    ),
    setting(
        "source.files",
        Shape::Section,
        "a section with one line per tab: the tab's name = its file",
        "a line [source.files], then Players = \"players.csv\" on the next line",
    ),
    setting(
        "source.files.*",
        Shape::Text,
        "a file name, in double quotes",
        "\"players.csv\"",
    ),
    setting(
        "source.urls",
        Shape::Section,
        "a section with one line per tab: the tab's name = its web address",
        "a line [source.urls], then Matches = \"https://…/pub?gid=123&output=csv\" on the next line",
    ),
    setting(
        "source.urls.*",
        Shape::Text,
        "a web address, in double quotes",
        "\"https://docs.google.com/spreadsheets/d/e/…/pub?gid=123&output=csv\"",
    ),
    setting(
        "source.encoding",
        Shape::OneOf(&["utf-8", "windows-1252"]),
        "\"utf-8\" or \"windows-1252\"",
        "\"windows-1252\"",
    ),
    setting(
        "players",
        Shape::Section,
        "a section naming the players tab and its columns",
        "a line [players], then tab = \"Players\" on the next line",
    ),
    setting(
        "players.tab",
        Shape::Text,
        "a tab name, in double quotes",
        "\"Players\"",
    ),
    setting(
        "players.id",
        Shape::Text,
        "a column name, in double quotes",
        "\"id\"",
    ),
    setting(
        "players.login",
        Shape::Text,
        "a column name, in double quotes",
        "\"name\"",
    ),
    setting(
        "players.secret",
        Shape::Text,
        "a column name, in double quotes",
        "\"pin\"",
    ),
    setting(
        "players.private",
        Shape::List,
        "a list of column names",
        "[\"email\", \"phone\"]",
    ),
    setting(
        "players.photo",
        Shape::Text,
        "a column name, in double quotes",
        "\"photo\"",
    ),
    setting(
        "players.photo_recheck_hours",
        Shape::Number,
        "a number of hours",
        "6",
    ),
    setting(
        "players.photo_allow",
        Shape::List,
        "a list of host names",
        "[\"photos.club.example\"]",
    ),
    setting(
        "players.admin",
        Shape::Text,
        "a column name, in double quotes",
        "\"admin\"",
    ),
    setting(
        "index",
        Shape::Section,
        "a section about the public roster page",
        "a line [index], then per_page = 500 on the next line",
    ),
    setting(
        "index.columns",
        Shape::List,
        "a list of column names",
        "[\"Name\", \"Points\"]",
    ),
    setting(
        "index.sort_by",
        Shape::Text,
        "a column name, in double quotes",
        "\"Points\"",
    ),
    setting(
        "index.descending",
        Shape::YesNo,
        "true or false, without quotes",
        "true",
    ),
    setting(
        "index.per_page",
        Shape::WholeNumber,
        "a whole number of players per page",
        "500",
    ),
    setting(
        "index.filters",
        Shape::List,
        "a list of column names the roster's search box also looks in (it always looks in the name)",
        "[\"team\"]",
    ),
    setting(
        "tables",
        Shape::Section,
        "one [[tables]] section per extra tab, each with its tab and key",
        "a line [[tables]], then tab = \"Matches\" and key = \"player_id\" on the next lines",
    ),
    setting(
        "tables.tab",
        Shape::Text,
        "a tab name, in double quotes",
        "\"Matches\"",
    ),
    setting(
        "tables.key",
        Shape::Text,
        "the name of the column that holds the player id, in double quotes",
        "\"player_id\"",
    ),
    setting(
        "tables.columns",
        Shape::List,
        "a list of the tab's column names, shown on the player's page in this order",
        "[\"date\", \"opponent\", \"result\"]",
    ),
    setting(
        "tables.sort_by",
        Shape::Text,
        "a column name of the tab, in double quotes: each player's rows are sorted by it (dates, numbers or text)",
        "\"date\"",
    ),
    setting(
        "tables.descending",
        Shape::YesNo,
        "true or false, without quotes",
        "true",
    ),
    setting(
        "player_page",
        Shape::Section,
        "a section about the player's own page",
        "a line [player_page], then fields = [\"team\", \"points\"] on the next line",
    ),
    setting(
        "player_page.fields",
        Shape::List,
        "a list of column names of the players tab, shown on the player's page in this order",
        "[\"team\", \"points\", \"email\"]",
    ),
    setting(
        "labels",
        Shape::Section,
        "a section with one line per column to rename on the pages: the column's name = its label",
        "a line [labels], then points = \"Points\" on the next line",
    ),
    setting(
        "labels.*",
        Shape::Text,
        "the label shown for this column, in double quotes",
        "\"Points\"",
    ),
    setting(
        "api",
        Shape::Section,
        "a section about the login service",
        "a line [api], then session_hours = 168 on the next line",
    ),
    setting(
        "api.listen",
        Shape::Text,
        "an address, in double quotes",
        "\"127.0.0.1:8787\"",
    ),
    setting(
        "api.session_hours",
        Shape::WholeNumber,
        "a whole number of hours",
        "168",
    ),
    setting(
        "api.insecure_http",
        Shape::YesNo,
        "true or false, without quotes",
        "true",
    ),
    setting(
        "api.login_failures_per_address",
        Shape::WholeNumber,
        "a whole number of failed logins",
        "10",
    ),
];
