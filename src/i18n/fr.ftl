## Les mots de sheetgen pour l'organisateur, en français (issue 26).
## Chaque message a son jumeau dans en.ftl (un test unitaire le vérifie).
## Les numéros de ligne sont du texte (jamais « 1 234 »), les nombres des
## nombres.

## Cellules et listes, telles que les problèmes les montrent.
cell-text = « { $text } »
cell-cut = « { $text }… »
cell-lines = (une cellule sur plusieurs lignes, non montrée)
list-sep = {", "}
list-last-sep = {" et "}

-plain-text = mettez la colonne des codes au format Texte brut dans la feuille (Format → Nombre → Texte brut)

## Les problèmes, un par genre (model/problem.rs), avec leurs valeurs.
problem-spans-lines-at = cette cellule va de la ligne { $open } à la ligne { $close } de { $origin }, or un identifiant, un nom de connexion ou un code ne peut pas tenir sur plusieurs lignes : ligne écartée ; retapez la cellule sur une seule ligne
problem-spans-lines = cette cellule contient un retour à la ligne, ce qu'un identifiant, un nom de connexion ou un code ne peut pas avoir : ligne écartée ; retapez la cellule sur une seule ligne
problem-empty-id = identifiant vide : ligne écartée ; donnez un identifiant à ce joueur
problem-duplicate-id = identifiant { $id } en double (déjà ligne { $first }) : ligne écartée ; donnez à ce joueur un identifiant à lui
problem-empty-login = nom de connexion vide : ligne écartée ; écrivez le nom du joueur
problem-empty-player-id = identifiant du joueur vide : ligne ignorée ; écrivez l'identifiant du joueur de cette ligne
problem-unknown-player = { $key } ne correspond à aucun joueur : ligne ignorée ; écrivez l'identifiant tel qu'il est dans l'onglet des joueurs
problem-unknown-player-case = { $key } ne correspond à aucun joueur : ligne ignorée. « { $typed } » ne diffère de l'identifiant « { $id } » que par les majuscules ; écrivez-le comme dans l'onglet des joueurs
problem-no-pin = pas de code pour { $name } : ce joueur ne peut pas se connecter ; écrivez-lui un code
problem-pin-digits-lost = ce code est affiché en notation scientifique (un nombre avec « E+ ») : la feuille n'a gardé que ses premiers chiffres, donc ce joueur ne peut pas se connecter. Pour corriger, { -plain-text }, puis retapez ce code en entier
problem-invisible-name = ce nom de connexion n'a ni lettre ni chiffre une fois les espaces et les caractères invisibles retirés, donc personne ne peut le taper : ce joueur ne peut pas se connecter ; retapez le nom dans la feuille
problem-same-name-and-pin = le nom de connexion { $name } et son code sont les mêmes { $count ->
        [one] qu'à la ligne { $rows }
       *[other] qu'aux lignes { $rows }
    } : aucune de ces lignes ne peut se connecter tant que les noms ou les codes sont identiques (ajoutez une initiale à l'un des noms, ou donnez un autre code à l'un des joueurs)
problem-same-name-and-pin-others = le nom de connexion { $name } et son code sont les mêmes { $count ->
        [one] qu'à la ligne { $rows }
       *[other] qu'aux lignes { $rows }
    } : aucune de ces lignes ne peut se connecter tant que les noms ou les codes sont identiques (ajoutez une initiale à l'un des noms, ou donnez un autre code à l'un des joueurs) ; { $others_count ->
        [one] la ligne { $others } a ce nom avec un autre code et se connecte
       *[other] les lignes { $others } ont ce nom avec un autre code et se connectent
    }
problem-shared-name = le nom de connexion { $name } est aussi { $count ->
        [one] à la ligne { $rows }
       *[other] aux lignes { $rows }
    } : chacun de ces joueurs se connecte avec son propre code (le nom et le code les distinguent), mais si leurs codes devenaient identiques, aucun ne pourrait se connecter ; par prudence, rendez les noms différents (ajoutez une initiale)
problem-pin-as-number = ce code est { $shape ->
        [grouped] affiché comme un nombre, ses chiffres groupés (une espace, une virgule ou un point entre des groupes de trois chiffres)
        [decimals] affiché comme un nombre à décimales (« { $decimals } »)
       *[both] affiché comme un nombre, ses chiffres groupés et avec des décimales (« { $decimals } »)
    } : ses chiffres seuls forment le code, et le joueur se connecte en les tapant (les espaces ne comptent pas). Par prudence, { -plain-text }, sinon un code qui commence par 0 perd son 0
problem-lost-zero = ce code a moins de chiffres que la plupart des codes de la colonne et ressemble à un nombre qui a perdu son zéro de tête : dans ce cas, ce joueur ne peut pas se connecter avec le code qu'on lui a donné. Pour corriger, { -plain-text }, puis retapez ce code avec ses zéros de tête
problem-common-pin = ce code est l'un des plus courants : choisissez-en un autre
problem-short-pin = ce code fait moins de { $min } caractères : facile à deviner ; choisissez-en un plus long
problem-pin-shown = cette cellule ressemble { $whose ->
        [this-row] au code de cette ligne (colonne « { $column } »)
        [row] au code de la ligne { $row } (colonne « { $column } »)
        [own] au code de la ligne { $row } de l'onglet « { $tab } » (colonne « { $column } », le joueur de cette ligne)
       *[other] au code de la ligne { $row } de l'onglet « { $tab } » (colonne « { $column } »)
    }, peut-être écrit autrement : elle n'est pas publiée (toutes les pages la montrent vide). Donnez { $whose ->
        [this-row] à ce joueur
        [row] au joueur de la ligne { $row }
       *[other] au joueur de cette ligne-là
    } un autre code (un numéro de téléphone ou une date de naissance se devine facilement), ou changez la cellule
problem-admin-unclear = { $cell } ne veut pas dire oui, donc cette ligne n'est pas administrateur. Pour qu'elle le soit, écrivez l'un de { $yes } ; pour dire non, laissez la cellule vide ou écrivez non
problem-not-a-date = { $cell } n'est pas une date, or cet onglet est trié par cette colonne et la plupart de ses cellules sont des dates : sur la page du joueur, cette ligne vient après celles qui ont une date. Écrivez une date comme 30/11/2026, 2026-11-30 ou 30 novembre 2026
problem-not-a-number = { $cell } n'est pas un nombre, or cet onglet est trié par cette colonne et la plupart de ses cellules sont des nombres : sur la page du joueur, cette ligne vient après les autres. Écrivez un nombre (comme 12 ou 12,5), ou laissez la cellule vide
problem-index-not-a-number = { $cell } n'est pas un nombre, or la liste des joueurs est triée par cette colonne et la plupart de ses cellules sont des nombres : ce joueur vient après tous ceux qui ont un nombre. Écrivez un nombre (comme 12 ou 12,5), ou laissez la cellule vide s'il n'y en a pas encore
problem-unused-label = `[labels]` donne à « { $column } » le libellé « { $label } », mais aucune page ne montre de colonne « { $column } »{ $near ->
        [case] {" "}(« { $column } » ne diffère de la colonne « { $name } » que par les majuscules)
        [spaces] {" "}(« { $column } » ne diffère de la colonne « { $name } » que par des espaces avant ou après)
        [close] {" "}(vouliez-vous dire « { $name } » ?)
       *[none] {""}
    } : ce libellé ne sert nulle part. Écrivez le nom de la colonne tel qu'il est dans la feuille
problem-photo-stale = la photo { $photo } n'a pas pu être mise à jour ({ $why }) ; l'image précédente reste
problem-photo-failed = la photo { $photo } n'est pas utilisée ({ $why }) ; les initiales du joueur sont montrées à la place
problem-photo-pending = la photo { $photo } est encore en cours de téléchargement ; les initiales du joueur sont montrées en attendant

## Les lignes nommées dans un résumé : les dix premières, puis combien d'autres.
rows-list = { $count ->
        [one] ligne
       *[other] lignes
    } { $rows }{ $more ->
        [0] {""}
       *[other] {" "}et { $more } autres
    }

## Où est un problème.
where-tab = onglet « { $tab } »
where-row = , ligne { $row }
where-column = , colonne « { $column } »

## Les genres de problèmes, comme gen check les compte (findings.rs).
kind-error = { $count ->
        [one] erreur
       *[other] erreurs
    }
kind-pin-shown = { $count ->
        [one] cellule qui ressemble au code d'un joueur (non publiée)
       *[other] cellules qui ressemblent au code d'un joueur (non publiées)
    }
kind-cannot-log-in = { $count ->
        [one] joueur qui ne peut pas se connecter
       *[other] joueurs qui ne peuvent pas se connecter
    }
kind-lost-zero = { $count ->
        [one] code qui a perdu son zéro de tête
       *[other] codes qui ont perdu leur zéro de tête
    }
kind-row-skipped = { $count ->
        [one] ligne écartée
       *[other] lignes écartées
    }
kind-row-ignored = { $count ->
        [one] ligne d'un autre onglet ignorée
       *[other] lignes d'autres onglets ignorées
    }
kind-weak-pin = { $count ->
        [one] code trop facile
       *[other] codes trop faciles
    }
kind-shared-name = { $count ->
        [one] nom de connexion partagé par des joueurs aux codes différents
       *[other] noms de connexion partagés par des joueurs aux codes différents
    }
kind-pin-as-number = { $count ->
        [one] code affiché comme un nombre (il fonctionne)
       *[other] codes affichés comme des nombres (ils fonctionnent)
    }
kind-admin-unclear = { $count ->
        [one] cellule admin qui ne veut pas dire oui
       *[other] cellules admin qui ne veulent pas dire oui
    }
kind-other = { $count ->
        [one] autre
       *[other] autres
    }

## Pourquoi un joueur ne peut pas se connecter.
blocked-no-pin = pas de code
blocked-digits-lost = chiffres du code perdus (notation scientifique)
blocked-same-name-and-pin = même nom et même code qu'une autre ligne
blocked-invisible-name = nom de connexion impossible à taper (ni lettre ni chiffre)
blocked-other = une autre raison (voyez les lignes plus bas)

## Le rapport de gen check.
check-config = configuration : { $path }
check-source = données : { $source }
check-auth = accès : { $auth }
check-verdict-unread = verdict : PAS publiable : voyez l'erreur ci-dessous
check-tab-rows = onglet « { $tab } » : { $rows } { $rows ->
        [one] ligne de données
       *[other] lignes de données
    }
check-summary = == résumé ==
check-public-secrets = ATTENTION : { $warning }
check-players = joueurs : { $players } (dont { $can } { $can ->
        [one] peut
       *[other] peuvent
    } se connecter), { $pages } pages à publier
check-joined = onglet « { $tab } » : { $rows } { $rows ->
        [one] ligne rattachée
       *[other] lignes rattachées
    } aux joueurs
check-would-publish = serait publié : { $player_pages } { $player_pages ->
        [one] page de joueur
       *[other] pages de joueurs
    }, { $files } { $files ->
        [one] fichier
       *[other] fichiers
    } en tout, dans { $dir }
check-removal-refused = la publication serait REFUSÉE : elle retirerait { $removing } des { $existing } pages de joueurs déjà publiées (plus de la moitié). Si la feuille a vraiment perdu ces joueurs, lancez `gen build --allow-mass-removal` ; sinon, corrigez d'abord la feuille
check-removal = la publication retirerait { $removing } des { $existing } pages de joueurs déjà publiées
check-removal-none = la publication ne retirerait aucune page de joueur
check-symlinks = attention : le dossier publié contient { $count } { $count ->
        [one] lien symbolique, que la publication retirerait
       *[other] liens symboliques, que la publication retirerait
    } (gen est le seul à écrire dans ce dossier, et un lien y servirait un fichier venu d'ailleurs) : { $names }
check-nobody-blocked = ne peut pas se connecter : personne
check-blocked = ne { $count ->
        [one] peut
       *[other] peuvent
    } pas se connecter : { $count } { $count ->
        [one] joueur
       *[other] joueurs
    }
check-blocked-reason = {"  "}{ $count } : { $reason } : { $rows }
check-lost-zero = ne { $count ->
        [one] peut
       *[other] peuvent
    } sans doute pas se connecter : { $count } { $count ->
        [one] joueur dont le code semble avoir perdu son zéro de tête
       *[other] joueurs dont le code semble avoir perdu son zéro de tête
    } : { $rows }
check-problems = problèmes : { $errors } { $errors ->
        [one] erreur
       *[other] erreurs
    }, { $warnings } { $warnings ->
        [one] avertissement
       *[other] avertissements
    }
check-by-kind = {"  "}par genre : { $kinds }
check-verdict-ok = verdict : publiable
check-verdict-no-players = verdict : PAS publiable : aucune ligne de joueur à publier
check-verdict-errors = verdict : PAS publiable : { $errors } { $errors ->
        [one] erreur
       *[other] erreurs
    } ci-dessus et ci-dessous
check-tab = == onglet « { $tab } » : { $warnings } { $warnings ->
        [one] avertissement
       *[other] avertissements
    }, { $errors } { $errors ->
        [one] erreur
       *[other] erreurs
    } ==
check-warning = avertissement : { $where } : { $message }
check-error = erreur : { $where } : { $message }
check-ok = ok : publiable ({ $warnings } { $warnings ->
        [one] avertissement
       *[other] avertissements
    })

## Les échecs (error.rs), tels que `gen` les écrit et que la page de
## l'organisateur les montre. `detail` : un détail technique, en anglais.
error-line = erreur : { $message }
error-config-read = impossible de lire la configuration { $path } : { $detail }
error-io = impossible de lire { $path } : { $detail }
error-io-missing = le fichier { $path } n'existe pas : a-t-il été renommé ou déplacé ? Remettez-le à sa place sous ce nom, ou indiquez son nouveau nom dans la configuration
error-csv = { $path } (onglet « { $tab } »), ligne { $line } : ce fichier CSV ne peut pas être lu ({ $detail }) ; enregistrez-le de nouveau depuis le tableur, au format CSV
error-unclosed-quote = { $path } (onglet « { $tab } »), ligne { $row }{ $line ->
        [none] {""}
       *[other] {" "}(ligne { $line } du fichier)
    }, colonne { $column } : cette cellule commence par un guillemet (") qui n'est jamais fermé, donc { $swallowed ->
        [0] tout le reste du fichier a été lu
        [1] la ligne suivante a été lue
       *[other] les { $swallowed } lignes suivantes ont été lues
    } comme faisant partie de cette cellule. Retirez le guillemet, ou fermez-le, puis publiez de nouveau
error-not-utf8 = { $path } (onglet « { $tab } »), ligne { $line } : ce fichier n'est pas en UTF-8 (s'il vient d'Excel sous Windows, écrivez `encoding = "windows-1252"` sous [source] dans la configuration)
error-workbook = { $path } : ce classeur ne peut pas être lu ({ $detail }) ; ouvrez-le dans le tableur et enregistrez-le de nouveau
error-missing-column = onglet « { $tab } » ({ $origin }) : pas de colonne « { $column } » (nommée par `{ $key }` dans la configuration) ; ses colonnes sont : { $found }{ $hint }
error-no-header = l'onglet « { $tab } » ({ $origin }) est vide : sa première ligne doit contenir les titres des colonnes
error-mass-removal = publication refusée : elle retirerait { $removing } des { $existing } pages de joueurs d'un coup (plus de la moitié). Si la feuille a vraiment perdu ces joueurs, relancez avec --allow-mass-removal. Rien n'a été changé.
error-check-failed = { $count } { $count ->
        [one] problème empêche
       *[other] problèmes empêchent
    } la publication de ce site
hint-column = { $near ->
        [case] {"."} « { $wanted } » ne diffère de « { $name } », dans la feuille, que par les majuscules
        [spaces] {"."} « { $wanted } » ne diffère de « { $name } », dans la feuille, que par des espaces avant ou après
        [close] {"."} Vouliez-vous dire « { $name } » ?
       *[none] {""}
    }
error-secret = publication refusée : { $pages } montrerait le code de l'onglet « { $tab } », { $rows }, colonne « { $column } ». Rien n'a été écrit ; le site reste tel qu'il était. Trouvez la cellule qui le contient (dans un fichier CSV, un guillemet égaré peut réunir plusieurs lignes dans une cellule) ou, si une autre cellule a vraiment cette valeur, changez le code

## Le compte rendu de gen build.
build-weak-pins = avertissement : { $count } { $count ->
        [one] code trop facile ou abîmé
       *[other] codes trop faciles ou abîmés
    } ; `gen check` les liste

## Le compte rendu de gen init et la suite.
init-read-csv-file = le fichier CSV { $what }
init-read-csv-files = les fichiers CSV de { $what }
init-read-workbook = le classeur { $what }
init-read-google = la feuille Google { $what }
init-tab = « { $tab } » ({ $columns } colonnes)
init-read = lu { $what } : { $tabs }
init-left-out = onglet « { $tab } » laissé de côté : { $why }
init-left-out-chart = un graphique, pas des cellules
init-left-out-no-header = vide : pas de ligne de titres
init-wrote = écrit { $path }
init-private = , privées : { $columns }
init-players = {"  "}joueurs : onglet « { $tab } », identifiant « { $id } », nom de connexion « { $login } », code « { $pin } »{ $private }
init-joined = {"  "}rattaché : onglet « { $tab } » par « { $key } »
init-not-joined = {"  "}non rattaché : onglet « { $tab } » (aucune colonne ne contient l'identifiant du joueur ; voyez le TODO)
init-todos = {"  "}{ $count } { $count ->
        [one] TODO du fichier attend votre choix
       *[other] TODO du fichier attendent votre choix
    }
init-checking = vérification, comme le fait `gen check` :
steps = la suite :
step-todos = Ouvrez { $path } et réglez { $count ->
        [one] la ligne marquée TODO.
       *[other] les { $count } lignes marquées TODO.
    }
step-share = Dans la feuille, partagez-la avec { $email } (en lecteur), et avec personne d'autre que les organisateurs : les codes y sont.
step-plain-text = Mettez la colonne des codes au format Texte brut dans la feuille (Format → Nombre → Texte brut), sinon Google perd les zéros de tête.
step-api-key = Avec une clé d'API, la feuille doit être lisible par toute personne qui a son lien, codes compris. Pour un site privé, créez un compte de service (console Google Cloud : IAM → Comptes de service → Clés → Ajouter une clé, JSON), partagez la feuille avec son adresse seulement, et relancez gen init avec --credentials cle.json. Gardez GEN_GOOGLE_API_KEY pour chaque commande gen d'ici là.
step-check = Après chaque changement : `{ $command } check`.
step-fix = Corrigez ce que la vérification a dit ci-dessus (dans la feuille ou dans { $path }), puis relancez `{ $command } check`.
step-serve = Essayez le site sur cet ordinateur : `{ $command } serve`, puis ouvrez http://127.0.0.1:8080/ et connectez-vous comme un joueur.
step-online = Mettez-le en ligne : sur un serveur Debian/Ubuntu, installez le paquet de sheetgen (`sudo apt install ./sheetgen_*.deb`) et lancez `sudo sheetgen-deploy --domain votre.domaine --email vous@votre.domaine` : il installe le service, le site nginx et un certificat HTTPS (certbot) ; remplacez ensuite /etc/sheetgen/site.toml par celui-ci. Avec gen seul : lancez `{ $command } watch` comme service, et `{ $command } nginx --server-name votre.domaine` affiche la configuration nginx du site (`gen nginx --help`). Les clés vont dans l'environnement du service ou un fichier de clé, jamais dans site.toml.
source-google = la feuille Google { $value }
source-csv-files = { $value } { $value ->
        [one] fichier CSV
       *[other] fichiers CSV
    }
source-csv-urls = { $value } { $value ->
        [one] adresse CSV publiée
       *[other] adresses CSV publiées
    }
source-workbook = le classeur { $value }
