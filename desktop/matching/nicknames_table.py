"""Known nicknames: the ``nicknames`` package's table plus Australian and British forms."""

from __future__ import annotations

from functools import lru_cache

# Canonical name -> nicknames the US-centred package table misses or that clinics here use.
EXTRA_NICKNAMES: dict[str, tuple[str, ...]] = {
    "robert": ("bob", "bobby", "rob", "robbie", "robbo", "bert"),
    "william": ("bill", "billy", "will", "willy", "liam", "wills"),
    "elizabeth": ("liz", "lizzie", "lizzy", "beth", "betty", "libby", "eliza", "bess", "lisa"),
    "katherine": ("kate", "katie", "kath", "kathy", "kat", "kitty", "katy"),
    "catherine": ("kate", "katie", "cath", "cathy", "cat", "kitty"),
    "kathryn": ("kate", "katie", "kath", "kathy"),
    "rebecca": ("bec", "becs", "becky", "beck", "becca"),
    "michael": ("mick", "micky", "mickey", "mike", "mikey", "mich"),
    "sharon": ("shaz", "shazza", "shaza"),
    "gary": ("gazza", "gaz"),
    "garry": ("gazza", "gaz"),
    "barry": ("bazza", "baz"),
    "darren": ("dazza", "daz"),
    "sarah": ("sazza", "saz", "sal", "sally"),
    "terence": ("tez", "terry"),
    "david": ("dave", "davo", "davey", "davy"),
    "james": ("jim", "jimmy", "jamie", "jimbo"),
    "jennifer": ("jenny", "jen", "jenn", "jennie"),
    "john": ("jack", "johnny", "jonno"),
    "jonathan": ("jon", "jonno", "johnny"),
    "stephen": ("steve", "stevie"),
    "steven": ("steve", "stevie"),
    "christopher": ("chris", "kit", "topher"),
    "christine": ("chris", "chrissy", "tina"),
    "samuel": ("sam", "sammy"),
    "samantha": ("sam", "sammy"),
    "alexander": ("alex", "al", "sandy", "xander"),
    "alexandra": ("alex", "sandy", "lexie", "lexi", "alexa", "sasha"),
    "matthew": ("matt", "matty"),
    "nicholas": ("nick", "nicko", "nicky"),
    "thomas": ("tom", "tommy"),
    "peter": ("pete",),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "margaret": ("maggie", "meg", "peggy", "marg", "margie", "greta"),
    "susan": ("sue", "suzie", "susie"),
    "diana": ("di",),
    "deborah": ("deb", "debbie", "debs"),
    "amanda": ("mandy", "manda"),
    "jessica": ("jess", "jessie"),
    "joanne": ("jo",),
    "natalie": ("nat",),
    "emma": ("em",),
    "emily": ("em", "emmy"),
    "benjamin": ("ben", "benji", "benny"),
    "daniel": ("dan", "danny"),
    "joshua": ("josh",),
    "henry": ("harry", "hal", "hank"),
    "harold": ("harry", "hal"),
    "edward": ("ted", "teddy", "ned", "ed", "eddie"),
    "charles": ("charlie", "chas", "chaz", "chuck"),
    "charlotte": ("charlie", "lottie"),
    "frederick": ("fred", "freddie"),
    "angus": ("gus",),
    "patricia": ("pat", "patty", "trish", "tricia"),
    "patrick": ("pat", "paddy"),
    "victoria": ("vicky", "vic", "tori"),
    "gregory": ("greg",),
    "timothy": ("tim", "timmy"),
    "richard": ("rick", "ricky", "dick", "rich", "richie"),
    "kimberley": ("kim",),
    "kimberly": ("kim",),
    "jacqueline": ("jacqui", "jackie"),
    "joseph": ("joe", "joey"),
    "lawrence": ("laurie", "larry"),
    "leonard": ("len", "lenny"),
    "ronald": ("ron", "ronnie"),
    "donald": ("don", "donny"),
    "kenneth": ("ken", "kenny"),
    "raymond": ("ray",),
    "gerald": ("gerry", "jerry"),
    "philip": ("phil",),
    "phillip": ("phil",),
    "douglas": ("doug",),
    "nathan": ("nate",),
    "zachary": ("zac", "zach"),
    "isabella": ("bella", "izzy"),
    "isabelle": ("belle", "izzy"),
    "abigail": ("abby", "abbie"),
    "olivia": ("liv", "livvy"),
    "madeleine": ("maddie", "maddy"),
    "madison": ("maddie", "maddy"),
    "dorothy": ("dot", "dottie", "dolly"),
    "veronica": ("ronnie", "vera"),
    "cheryl": ("cher",),
    "caroline": ("caro", "carrie"),
    "penelope": ("penny", "pen"),
    "helen": ("nell",),
    "eleanor": ("ellie", "nell", "nora"),
    "rosemary": ("rosie", "ro", "rose"),
    # Greek and Italian names with the English or short forms they go by here.
    "konstantinos": ("con", "kon", "kosta", "kostas", "dean"),
    "dimitrios": ("jim", "jimmy", "dimitri", "dimi"),
    "georgios": ("george", "giorgos", "yiorgos"),
    "nikolaos": ("nick", "nicky", "nikos", "nico"),
    "ioannis": ("john", "johnny", "yianni", "yiannis", "giannis"),
    "panagiotis": ("peter", "pete", "panos", "takis"),
    "vasilios": ("bill", "billy", "vasili", "vasilis"),
    "christos": ("chris",),
    "spyridon": ("spiro", "spiros"),
    "evangelos": ("angelo", "vangelis", "evan"),
    "athanasios": ("tom", "thanasis", "arthur"),
    "giuseppe": ("joe", "joseph", "pino", "peppe"),
    "giovanni": ("john", "johnny", "gianni"),
    "francesco": ("frank", "franco", "frankie"),
    "salvatore": ("sam", "sal", "salvo", "toto"),
    "domenico": ("dom", "dominic", "mimmo"),
    "vincenzo": ("vince", "vinnie", "enzo"),
}


@lru_cache(maxsize=1)
def _groups() -> dict[str, frozenset[str]]:
    """Name -> the canonical names it belongs to (itself included)."""
    groups: dict[str, set[str]] = {}
    try:
        from nicknames import NickNamer

        namer = NickNamer()
        table = namer.nickname_lookup
    except Exception:  # the package is optional at run time; fall back to our table
        table = {}
    for canonical, nicks in table.items():
        for nick in nicks:
            groups.setdefault(nick, set()).add(canonical)
        groups.setdefault(canonical, set()).add(canonical)
    for canonical, extra in EXTRA_NICKNAMES.items():
        groups.setdefault(canonical, set()).add(canonical)
        for nick in extra:
            groups.setdefault(nick, set()).add(canonical)
    return {name: frozenset(canon) for name, canon in groups.items()}


def canonical_forms(name: str) -> frozenset[str]:
    """The canonical names a folded first name may stand for (itself when unknown)."""
    return _groups().get(name, frozenset((name,)))


def is_nickname_pair(a: str, b: str) -> bool:
    """True when two different folded first names are known forms of one name (Bob / Robert)."""
    if not a or not b or a == b:
        return False
    ga, gb = canonical_forms(a), canonical_forms(b)
    return bool(ga & gb) or a in gb or b in ga


def known_name(name: str) -> bool:
    """True when the nickname table knows this folded first name."""
    return name in _groups()


def nickname_only(name: str) -> bool:
    """True when the table knows this folded first name only as a short form of other names
    (Josh, Tilly), not as a name given in its own right (Ella, Jim)."""
    forms = _groups().get(name)
    return forms is not None and name not in forms
