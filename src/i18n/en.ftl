## sheetgen's words for the organiser, in English (issue 26). Every
## message here has its twin in fr.ftl (a unit test checks it). Row
## numbers are given as text (never "1,234"), counts as numbers.

## Cells and lists, as problems show them.
cell-text = "{ $text }"
cell-cut = "{ $text }…"
cell-lines = (a cell spanning several lines, not shown)
# Between the items of a list of rows, and before its last item.
list-sep = {", "}
list-last-sep = {", "}

-plain-text = format the PIN column as Plain text in the sheet (Format → Number → Plain text)

## Problems, one per kind (model/problem.rs), with the values they carry.
problem-spans-lines-at = this cell runs from line { $open } to line { $close } of { $origin }, and an id, a login name or a PIN cannot hold a line break: row skipped; retype the cell on one line
problem-spans-lines = this cell holds a line break, which an id, a login name or a PIN cannot have: row skipped; retype the cell on one line
problem-empty-id = empty id; row skipped
problem-duplicate-id = duplicate id { $id } (already on row { $first }); row skipped
problem-empty-login = empty login name; row skipped
problem-empty-player-id = empty player id; row ignored
problem-unknown-player = { $key } matches no player; row ignored
problem-unknown-player-case = { $key } matches no player; row ignored. "{ $typed }" differs from the player id "{ $id }" only in case
problem-no-pin = no PIN for { $name }: this player cannot log in
problem-pin-digits-lost = this PIN is shown in scientific notation (a number with "E+"): the sheet kept only its first digits, so this player cannot log in. To fix it, { -plain-text }, then retype this PIN in full
problem-invisible-name = this login name has no letter or digit once spaces and invisible characters are left out, so nobody can type it: this player cannot log in; retype the name in the sheet
problem-same-name-and-pin = login name { $name } and its PIN are the same as on row { $rows }: neither row can log in until the names or the PINs differ (add an initial to one name, or give one player another PIN)
problem-same-name-and-pin-others = login name { $name } and its PIN are the same as on row { $rows }: neither row can log in until the names or the PINs differ (add an initial to one name, or give one player another PIN); row { $others } has this name with another PIN and logs in
problem-shared-name = login name { $name } is also on row { $rows }: each of these players logs in with their own PIN (name and PIN tell them apart), but if their PINs were ever the same neither could log in; to be safe, make the names differ (add an initial)
problem-pin-as-number = this PIN is { $shape ->
        [grouped] shown as a number with its digits in groups (a space, comma or dot between groups of three digits)
        [decimals] shown as a number with decimals ("{ $decimals }")
       *[both] shown as a number with its digits in groups and decimals ("{ $decimals }")
    }: its digits alone are the PIN, and the player logs in by typing them (spaces are ignored). To be safe, { -plain-text }, or a PIN starting with 0 loses its 0
problem-lost-zero = this PIN has fewer digits than most PINs in the column and looks like a number whose leading zero was lost: if so, this player cannot log in with the PIN they were given. To fix it, { -plain-text }, then retype this PIN with its leading zeros
problem-common-pin = this PIN is one of the most common ones: choose another
problem-short-pin = this PIN is shorter than { $min } characters: easy to guess
problem-pin-shown = this cell looks like { $whose ->
        [this-row] this row's PIN (column "{ $column }")
        [row] the PIN of row { $row } (column "{ $column }")
        [own] the PIN of row { $row } of the tab "{ $tab }" (column "{ $column }", this row's player)
       *[other] the PIN of row { $row } of the tab "{ $tab }" (column "{ $column }")
    }, perhaps written another way: it is not published (every page shows it empty). Give { $whose ->
        [this-row] this player
        [row] the player of row { $row }
       *[other] the player of that row
    } another PIN (a phone number or a birth date is easy to guess), or change the cell
problem-admin-unclear = { $cell } does not mean yes, so this row is not an admin. To make it an admin write one of { $yes }; to say no, leave the cell empty or write no
problem-not-a-date = { $cell } is not a date, but this tab is sorted by this column and most of its cells are dates: on the player's page this row is listed after the dated ones. Write a date like 30/11/2026, 2026-11-30 or 30 novembre 2026
problem-not-a-number = { $cell } is not a number, but this tab is sorted by this column and most of its cells are numbers: on the player's page this row is listed after the others. Write a number (like 12 or 12,5), or leave the cell empty
problem-index-not-a-number = { $cell } is not a number, but the index is sorted by this column and most of its cells are numbers: this player is listed after every player with a number. Write a number (like 12 or 12,5), or leave the cell empty if there is none yet
problem-unused-label = `[labels]` gives "{ $column }" the label "{ $label }", but no page shows a column "{ $column }"{ $near ->
        [case] {" "}("{ $column }" differs from the column "{ $name }" only in case)
        [spaces] {" "}("{ $column }" differs from the column "{ $name }" only by spaces before or after it)
        [close] {" "}(did you mean "{ $name }"?)
       *[none] {""}
    }: the label is used nowhere. Write the column's name as the sheet has it
problem-photo-stale = photo { $photo } could not be refreshed ({ $why }); the previous image stays
problem-photo-failed = photo { $photo } not used ({ $why }); the initials avatar is shown
problem-photo-pending = photo { $photo } is still downloading; the initials avatar is shown until a later cycle

## Rows named in a summary: the first ten, then how many more.
rows-list = { $count ->
        [one] row
       *[other] rows
    } { $rows }{ $more ->
        [0] {""}
       *[other] {" "}and { $more } more
    }

## Where a problem is.
where-tab = tab "{ $tab }"
where-row = , row { $row }
where-column = , column "{ $column }"

## Kinds of problems, as gen check counts them (findings.rs).
kind-error = error(s)
kind-pin-shown = cell(s) that look like a player's PIN (not published)
kind-cannot-log-in = player(s) who cannot log in
kind-lost-zero = PIN(s) that lost a leading zero
kind-row-skipped = row(s) skipped
kind-row-ignored = row(s) of other tabs ignored
kind-weak-pin = weak PIN(s)
kind-shared-name = login name(s) shared by players with different PINs
kind-pin-as-number = PIN(s) shown as a number (they log in)
kind-admin-unclear = admin cell(s) that do not mean yes
kind-other = other

## Why a player cannot log in.
blocked-no-pin = no PIN
blocked-digits-lost = PIN digits lost (scientific notation)
blocked-same-name-and-pin = same name and same PIN as another row
blocked-invisible-name = login name nobody can type (no letter or digit)
blocked-other = another reason (see the rows below)

## gen check's report.
check-config = config: { $path }
check-source = source: { $source }
check-auth = auth: { $auth }
check-verdict-unread = verdict: NOT publishable: see the error below
check-tab-rows = tab "{ $tab }": { $rows } data rows
check-summary = == summary ==
check-public-secrets = WARNING: { $warning }
check-players = players: { $players } ({ $can } can log in), { $pages } pages render
check-joined = tab "{ $tab }": { $rows } rows joined to players
check-would-publish = would publish: { $player_pages } player page(s), { $files } file(s) in all, to { $dir }
check-removal-refused = build would REFUSE: it would remove { $removing } of the { $existing } player pages already published (more than half). If the sheet really lost those players, run `gen build --allow-mass-removal`; if not, fix the sheet first
check-removal = build would remove { $removing } of the { $existing } player pages already published
check-removal-none = build would remove no player page
check-symlinks = warning: out_dir holds { $count } symlink(s), which build would remove (gen is the only writer of out_dir, and a symlink there would serve a file from elsewhere): { $names }
check-nobody-blocked = cannot log in: nobody
check-blocked = cannot log in: { $count } player(s)
check-blocked-reason = {"  "}{ $count } { $reason }: { $rows }
check-lost-zero = probably cannot log in: { $count } player(s) whose PIN looks like it lost a leading zero: { $rows }
check-problems = problems: { $errors } error(s), { $warnings } warning(s)
check-by-kind = {"  "}by kind: { $kinds }
check-verdict-ok = verdict: publishable
check-verdict-no-players = verdict: NOT publishable: no player row to publish
check-verdict-errors = verdict: NOT publishable: { $errors } error(s) above and below
check-tab = == tab "{ $tab }": { $warnings } warning(s), { $errors } error(s) ==
check-warning = warning: { $where }: { $message }
check-error = error: { $where }: { $message }
check-ok = ok: publishable ({ $warnings } warning(s))

## Failures (error.rs), as `gen` prints them and the organiser's page
## shows them. `detail`: a technical detail, in English.
error-line = error: { $message }
error-config-read = cannot read the config { $path }: { $detail }
error-io = cannot read { $path }: { $detail }
error-io-missing = cannot read { $path }: { $detail }
error-csv = { $path } (tab "{ $tab }"), line { $line }: { $detail }
error-unclosed-quote = { $path } (tab "{ $tab }"), row { $row }{ $line ->
        [none] {""}
       *[other] {" "}(line { $line } of the file)
    }, column { $column }: this cell starts with a quote (") that is never closed, so { $swallowed ->
        [0] the rest of the file was
        [1] the 1 row after it was
       *[other] the { $swallowed } rows after it were
    } read as part of this cell. Remove the quote, or close it, then build again
error-not-utf8 = { $path } (tab "{ $tab }"), line { $line }: not valid UTF-8 (set `encoding = "windows-1252"` under [source] if the file comes from Excel on Windows)
error-workbook = { $path }: { $detail }
error-missing-column = tab "{ $tab }" ({ $origin }): no column "{ $column }" (named by `{ $key }` in the config); its columns are: { $found }{ $hint }
error-no-header = tab "{ $tab }" ({ $origin }) is empty: it has no header row
error-mass-removal = refusing to remove { $removing } of { $existing } player pages in one cycle (more than half); if the sheet really lost those players, run again with --allow-mass-removal. Nothing was changed.
error-check-failed = { $count } problem(s) stop this site from publishing
hint-column = { $near ->
        [case] {"."} "{ $wanted }" differs from the sheet's "{ $name }" only in case
        [spaces] {"."} "{ $wanted }" differs from the sheet's "{ $name }" only by spaces before or after it
        [close] {"."} Did you mean "{ $name }"?
       *[none] {""}
    }
error-secret = refusing to publish: { $pages } would show the secret of tab "{ $tab }", { $rows }, column "{ $column }". Nothing was written; the site stays as it was. Find the cell that holds it (in a CSV file, a stray quote can pull rows into one cell) or, if another cell rightly has that value, change the PIN

## gen build's report.
build-weak-pins = warning: { $count } weak or damaged PIN(s); `gen check` lists them

## gen init's report and next steps.
init-read-csv-file = the CSV file { $what }
init-read-csv-files = the CSV files in { $what }
init-read-workbook = the workbook { $what }
init-read-google = the Google Sheet { $what }
init-tab = "{ $tab }" ({ $columns } columns)
init-read = read { $what }: { $tabs }
init-left-out = left out tab "{ $tab }": { $why }
init-left-out-chart = a chart, not cells
init-left-out-no-header = empty: no header row
init-wrote = wrote { $path }
init-private = , private: { $columns }
init-players = {"  "}players: tab "{ $tab }", id "{ $id }", login "{ $login }", PIN "{ $pin }"{ $private }
init-joined = {"  "}joined: tab "{ $tab }" by "{ $key }"
init-not-joined = {"  "}not joined: tab "{ $tab }" (no column holding the player's id; see the TODO)
init-todos = {"  "}{ $count } TODO(s) in the file need you
init-checking = checking it, as `gen check` does:
steps = next steps:
step-todos = Open { $path } and settle the { $count } line(s) marked TODO.
step-share = In the sheet, Share it with { $email } (as Viewer), and with nobody but the organisers: the PINs are in it.
step-plain-text = Format the PIN column as plain text in the sheet (Format → Number → Plain text), or Google drops leading zeros.
step-api-key = With an API key the sheet must be readable by anyone with its link, PINs included. For a private site, make a service account (Google Cloud console: IAM → Service accounts → Keys → Add key, JSON), share the sheet with its e-mail only, and run gen init again with --credentials key.json. Keep GEN_GOOGLE_API_KEY set for every gen command until then.
step-check = After any change: `{ $command } check`.
step-fix = Fix what the check said above (in the sheet or in { $path }), then run `{ $command } check` again.
step-serve = Try the site on this computer: `{ $command } serve`, then open http://127.0.0.1:8080/ and log in as a player.
step-online = Put it online: on a Debian/Ubuntu server, install sheetgen's package (`sudo apt install ./sheetgen_*.deb`) and run `sudo sheetgen-deploy --domain your.domain --email you@your.domain`: it installs the service, nginx's site and an HTTPS certificate (certbot); then replace /etc/sheetgen/site.toml by this one. With gen alone: run `{ $command } watch` as a service, and `{ $command } nginx --server-name your.domain` prints nginx's site config (`gen nginx --help`). Keys go in the service's environment or a key file, never in site.toml.
source-google = Google Sheets { $value }
source-csv-files = { $value } CSV file(s)
source-csv-urls = { $value } published CSV URL(s)
source-workbook = workbook { $value }
