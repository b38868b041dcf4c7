//! Glob languages as small automata, and the finite partition ("cells") of a
//! string field induced by a set of patterns.
//!
//! A [`Pattern`] is a sequence of tokens, each one character (`One`) or any run
//! (`Run`) of characters from a [`Class`]. IAM wildcards (`*`, `?`), the
//! per-component matching of the `Arn*` operators (a wildcard in the first five
//! components never crosses a `:`) and case-insensitive comparison are all
//! expressed this way, so one procedure decides every field.
//!
//! [`cells`] explores the product of the patterns' subset automata breadth first
//! over the character classes that the patterns distinguish. Every reachable
//! product state whose acceptance vector is new yields one cell: the exact set of
//! patterns some string matches, with the shortest such string as its witness.
//! The exploration is exact: two characters in the same class are accepted by
//! the same tokens, so one representative per class reaches every product state.

use rustc_hash::FxHashMap as HashMap;

/// A set of characters one token accepts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Class {
    /// Any character.
    Any,
    /// Any character but `:` (wildcards inside one ARN component).
    NotColon,
    /// `0`-`9`.
    Digit,
    /// Exactly these characters.
    Chars(Vec<char>),
}

impl Class {
    pub fn has(&self, c: char) -> bool {
        match self {
            Class::Any => true,
            Class::NotColon => c != ':',
            Class::Digit => c.is_ascii_digit(),
            Class::Chars(v) => v.contains(&c),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tok {
    One(Class),
    Run(Class),
}

/// A pattern over strings (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Shared: a field's patterns are cloned into every question's compiler
    /// and cache key (1,000 zone-of-trust accounts per external-access question).
    toks: std::sync::Arc<[Tok]>,
    never: bool,
    /// The same language as a plain case-sensitive IAM glob, when it is one
    /// (the fast path of [`Pattern::matches`]).
    glob: Option<String>,
}

fn as_glob(toks: &[Tok]) -> Option<String> {
    toks.iter()
        .map(|t| match t {
            Tok::One(Class::Chars(v)) if v.len() == 1 && v[0] != '*' && v[0] != '?' => Some(v[0]),
            Tok::One(Class::Any) => Some('?'),
            Tok::Run(Class::Any) => Some('*'),
            _ => None,
        })
        .collect()
}

fn lit_tok(c: char, ignore_case: bool) -> Tok {
    if ignore_case && c.is_ascii_alphabetic() {
        Tok::One(Class::Chars(vec![
            c.to_ascii_lowercase(),
            c.to_ascii_uppercase(),
        ]))
    } else {
        Tok::One(Class::Chars(vec![c]))
    }
}

/// Hashes the glob text when there is one (it is a function of the tokens, so
/// equal patterns hash alike): one string instead of every token, for the
/// 1,000 account patterns a question's fields and cache keys hold.
impl std::hash::Hash for Pattern {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.never.hash(state);
        match &self.glob {
            Some(g) => g.hash(state),
            None => self.toks.hash(state),
        }
    }
}

impl Pattern {
    /// Matches nothing.
    pub fn never() -> Self {
        Pattern {
            toks: std::sync::Arc::from([]),
            never: true,
            glob: None,
        }
    }

    pub fn from_toks(toks: Vec<Tok>) -> Self {
        let glob = as_glob(&toks);
        Pattern {
            toks: toks.into(),
            never: false,
            glob,
        }
    }

    /// Exactly `s` (`*` and `?` are ordinary characters).
    pub fn literal(s: &str, ignore_case: bool) -> Self {
        Pattern::from_toks(s.chars().map(|c| lit_tok(c, ignore_case)).collect())
    }

    /// IAM wildcard pattern: `*` any run, `?` one character.
    pub fn glob(s: &str, ignore_case: bool) -> Self {
        Pattern::from_toks(glob_toks(s, ignore_case, Class::Any))
    }

    /// The `Arn*` operators: six `:`-separated components matched separately.
    pub fn arn(s: &str) -> Self {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 {
            return Pattern::never();
        }
        let mut toks = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                toks.push(lit_tok(':', false));
            }
            let class = if i < 5 { Class::NotColon } else { Class::Any };
            toks.extend(glob_toks(p, false, class));
        }
        Pattern::from_toks(toks)
    }

    /// `self` with every wildcard narrowed to exclude `:`.
    pub fn no_colon(&self) -> Self {
        let toks: Vec<Tok> = self
            .toks
            .iter()
            .map(|t| match t {
                Tok::One(Class::Any) => Tok::One(Class::NotColon),
                Tok::Run(Class::Any) => Tok::Run(Class::NotColon),
                t => t.clone(),
            })
            .collect();
        let glob = as_glob(&toks);
        Pattern {
            toks: toks.into(),
            never: self.never,
            glob,
        }
    }

    /// Concatenation.
    pub fn then(mut self, other: &Pattern) -> Self {
        self.never |= other.never;
        let toks: Vec<Tok> = self.toks.iter().chain(other.toks.iter()).cloned().collect();
        self.glob = as_glob(&toks);
        self.toks = toks.into();
        self
    }

    pub fn toks(toks: &[Tok]) -> Self {
        Pattern::from_toks(toks.to_vec())
    }

    fn classes(&self) -> impl Iterator<Item = &Class> {
        self.toks.iter().map(|t| match t {
            Tok::One(c) | Tok::Run(c) => c,
        })
    }

    /// [`Pattern::matches`] with the state set in one `u128` (no allocation).
    fn matches_small(&self, s: &str) -> bool {
        let n = self.toks.len();
        let close = |mut set: u128| {
            for (i, t) in self.toks.iter().enumerate() {
                if set & (1 << i) != 0 && matches!(t, Tok::Run(_)) {
                    set |= 1 << (i + 1);
                }
            }
            set
        };
        let mut set = close(1);
        for c in s.chars() {
            let mut next = 0u128;
            for (i, t) in self.toks.iter().enumerate() {
                if set & (1 << i) == 0 {
                    continue;
                }
                match t {
                    Tok::One(cl) if cl.has(c) => next |= 1 << (i + 1),
                    Tok::Run(cl) if cl.has(c) => next |= 1 << i,
                    _ => {}
                }
            }
            if next == 0 {
                return false;
            }
            set = close(next);
        }
        set & (1 << n) != 0
    }

    /// Every continuation is accepted from `position`: a trailing `*` of class Any.
    fn accepts_all_at(&self, position: usize) -> bool {
        let n = self.toks.len();
        n > 0 && position == n - 1 && matches!(self.toks[n - 1], Tok::Run(Class::Any))
    }

    /// The characters every string of the language starts with (the leading
    /// tokens that accept one character only).
    pub(crate) fn lead(&self) -> String {
        self.toks
            .iter()
            .map_while(|t| match t {
                Tok::One(Class::Chars(v)) if v.len() == 1 => Some(v[0]),
                _ => None,
            })
            .collect()
    }

    /// `L` when the pattern is `L*`: a non-empty case-sensitive literal, then one
    /// run of any character (`arn:aws:iam::111122223333:*`, `s3:Get*`).
    fn as_prefix(&self) -> Option<String> {
        let lead = self.lead();
        let n = lead.chars().count();
        (!self.never && n > 0 && n + 1 == self.toks.len() && self.toks[n] == Tok::Run(Class::Any))
            .then_some(lead)
    }

    /// The one string of the language, when the pattern is a case-sensitive literal.
    pub fn as_literal(&self) -> Option<&str> {
        self.glob
            .as_deref()
            .filter(|g| !self.never && !g.contains(['*', '?']))
    }
}

/// The case-sensitive literals of `patterns` by their text (with every index
/// that holds it), and the indices of the other patterns.
pub fn by_literal(patterns: &[Pattern]) -> (HashMap<&str, Vec<usize>>, Vec<usize>) {
    let mut literals: HashMap<&str, Vec<usize>> = HashMap::default();
    let mut others = Vec::new();
    for (i, p) in patterns.iter().enumerate() {
        match p.as_literal() {
            Some(l) => literals.entry(l).or_default().push(i),
            None => others.push(i),
        }
    }
    (literals, others)
}

/// Patterns indexed by their [`Pattern::lead`]: the ones a string can match are
/// found by looking its heads up, not by trying each pattern (1,000 prefixes
/// `arn:aws:iam::<account>:*` against 1,000 role ARNs; a field's action
/// patterns against the catalog's actions).
pub struct ByLead<'a> {
    patterns: &'a [Pattern],
    by_lead: HashMap<String, Vec<usize>>,
    lens: Vec<usize>,
}

impl<'a> ByLead<'a> {
    /// The patterns `ids` of `patterns`.
    pub fn new(patterns: &'a [Pattern], ids: &[usize]) -> Self {
        let mut by_lead: HashMap<String, Vec<usize>> = HashMap::default();
        for &i in ids {
            by_lead.entry(patterns[i].lead()).or_default().push(i);
        }
        let mut lens: Vec<usize> = by_lead.keys().map(String::len).collect();
        lens.sort_unstable();
        lens.dedup();
        ByLead {
            patterns,
            by_lead,
            lens,
        }
    }

    /// The indexed patterns that match `s`.
    pub fn matching<'s>(&'s self, s: &'s str) -> impl Iterator<Item = usize> + 's {
        self.lens
            .iter()
            .take_while(move |&&n| n <= s.len())
            .filter_map(move |&n| s.get(..n).and_then(|h| self.by_lead.get(h)))
            .flatten()
            .copied()
            .filter(move |&i| self.patterns[i].matches(s))
    }
}

/// Some patterns as one deterministic automaton, built as strings need it:
/// the patterns a string matches are found by one step of the product state
/// per character, and a step already taken (same state, same character) is
/// looked up. Strings that share their structure (1,000 role ARNs against a
/// field's ARN shapes) reach the same states, so nearly every step is a lookup
/// instead of one match per pattern.
pub struct Matcher {
    /// The patterns matched (`sub[k]` is `patterns[ids[k]]`).
    sub: Vec<Pattern>,
    ids: Vec<usize>,
    states: Vec<State>,
    index: HashMap<State, u32>,
    steps: HashMap<(u32, char), u32>,
    /// Per state, the indices (into `patterns`) of the patterns it accepts.
    accepted: Vec<Option<Vec<usize>>>,
}

impl Matcher {
    /// The patterns `ids` of `patterns`.
    pub fn new(patterns: &[Pattern], ids: &[usize]) -> Self {
        let ids = ids.to_vec();
        let sub: Vec<Pattern> = ids.iter().map(|&i| patterns[i].clone()).collect();
        let start = start_state(&sub);
        let mut index = HashMap::default();
        index.insert(start.clone(), 0);
        Matcher {
            sub,
            ids,
            states: vec![start],
            index,
            steps: HashMap::default(),
            accepted: vec![None],
        }
    }

    /// The indices of the patterns that match `s`.
    pub fn matching(&mut self, s: &str) -> &[usize] {
        let at = self.state_after(s) as usize;
        if self.accepted[at].is_none() {
            let acc = accepted(&self.sub, &self.states[at])
                .map(|k| self.ids[k])
                .collect();
            self.accepted[at] = Some(acc);
        }
        self.accepted[at].as_deref().unwrap_or_default()
    }

    /// The state reached by reading `s` (an index into `states`).
    fn state_after(&mut self, s: &str) -> u32 {
        let mut at = 0u32;
        for c in s.chars() {
            if self.states[at as usize].is_empty() {
                break;
            }
            at = match self.steps.get(&(at, c)) {
                Some(&n) => n,
                None => {
                    let next = step_state(&self.sub, &self.states[at as usize], c);
                    let n = match self.index.get(&next) {
                        Some(&n) => n,
                        None => {
                            let n = self.states.len() as u32;
                            self.index.insert(next.clone(), n);
                            self.states.push(next);
                            self.accepted.push(None);
                            n
                        }
                    };
                    self.steps.insert((at, c), n);
                    n
                }
            };
        }
        at
    }
}

impl Pattern {
    /// Whether `s` is in the language.
    pub fn matches(&self, s: &str) -> bool {
        if self.never {
            return false;
        }
        if let Some(g) = &self.glob {
            return super::glob(g, s, false);
        }
        if self.toks.len() < 127 {
            return self.matches_small(s);
        }
        let one = std::slice::from_ref(self);
        let mut st = start_state(one);
        for c in s.chars() {
            if st.is_empty() {
                return false;
            }
            st = step_state(one, &st, c);
        }
        accepted(one, &st).next().is_some()
    }
}

fn glob_toks(s: &str, ignore_case: bool, wild: Class) -> Vec<Tok> {
    s.chars()
        .map(|c| match c {
            '*' => Tok::Run(wild.clone()),
            '?' => Tok::One(wild.clone()),
            c => lit_tok(c, ignore_case),
        })
        .collect()
}

/// A set of pattern indices.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    pub fn set(&mut self, i: usize) {
        if self.0.len() <= i / 64 {
            self.0.resize(i / 64 + 1, 0);
        }
        self.0[i / 64] |= 1 << (i % 64);
    }
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
    pub fn intersects(&self, o: &Bits) -> bool {
        self.0.iter().zip(&o.0).any(|(a, b)| a & b != 0)
    }
}

/// One region of a field: the patterns its strings match, and a shortest string.
#[derive(Debug, Clone)]
pub struct Cell {
    pub matched: Bits,
    pub witness: String,
}

/// The exploration was too large to finish; the caller reports "cannot decide".
#[derive(Debug, Clone)]
pub struct TooLarge(pub usize);

/// Preferred representatives, so witnesses read naturally.
const PREFERRED: &str = "xyzabcdefghijklmnopqrstuvw0123456789XYZABCDEFGHIJKLMNOPQRSTUVW-_./";

/// Every non-empty cell whose set of matched patterns is `valid` (the field's
/// domain), each with a shortest witness.
///
/// `exclude`: patterns a valid cell never matches; once a string is in one of
/// them for every continuation (a trailing `*` reached), its extensions are not
/// explored.
///
/// `need`: patterns one of which every valid cell matches (the field's
/// domain), when the caller knows them; a string that no continuation can make
/// match one of them is not explored further. Only whole subtrees of invalid
/// cells are cut, so the valid cells and their witnesses are the same.
///
/// Many case-sensitive literals (1,000 role ARNs, 1,000 accounts of a zone of
/// trust) are split off: a literal's only string is its own witness, and the
/// strings that are no literal are partitioned by the other patterns alone
/// ([`literal_split`]). Fewer literals: one exploration of all patterns.
pub fn cells(
    patterns: &[Pattern],
    valid: &dyn Fn(&Bits) -> bool,
    exclude: &[usize],
    need: Option<&[usize]>,
    limit: usize,
) -> Result<Vec<Cell>, TooLarge> {
    let (by_text, others) = by_literal(patterns);
    if patterns.len() - others.len() >= LITERAL_SPLIT
        && let Some(cs) = literal_split(patterns, &by_text, &others, valid, exclude, need, limit)?
    {
        return Ok(cs);
    }
    prefix_split_or_explore(patterns, valid, exclude, need, limit)
}

/// [`prefix_split`] when it applies, else [`explore`].
fn prefix_split_or_explore(
    patterns: &[Pattern],
    valid: &dyn Fn(&Bits) -> bool,
    exclude: &[usize],
    need: Option<&[usize]>,
    limit: usize,
) -> Result<Vec<Cell>, TooLarge> {
    if let Some(cs) = prefix_split(patterns, valid, exclude, need, limit)? {
        return Ok(cs);
    }
    explore(patterns, valid, exclude, need, limit)
}

/// Prefix patterns (`L*`) from which [`cells`] splits them off.
pub const PREFIX_SPLIT: usize = 32;

/// Literals from which [`cells`] splits them off.
pub const LITERAL_SPLIT: usize = 32;

/// Literals a split may keep in the exploration (those that are the shortest
/// string of some region) before it gives up and explores everything.
const SPLIT_KEPT_MAX: usize = 64;

/// [`cells`] with the case-sensitive literals split off, exactly:
/// - a literal string `l` is one cell: the literals equal to `l` and the other
///   patterns that match `l`, witness `l`;
/// - every other string is in a region of the remaining patterns `G` (every
///   non-literal, and the literals `kept`): explored alone, each region of `G`
///   whose witness is no literal is one cell, with no literal bit. When a
///   region's witness is a literal not yet kept, that literal is kept and `G`
///   explored again, so the region's remaining strings (if any) get a witness
///   of their own.
///
/// `None` when more than [`SPLIT_KEPT_MAX`] literals would have to be kept.
/// `by_text` and `others`: [`by_literal`] of `patterns`.
fn literal_split(
    patterns: &[Pattern],
    by_text: &HashMap<&str, Vec<usize>>,
    others: &[usize],
    valid: &dyn Fn(&Bits) -> bool,
    exclude: &[usize],
    need: Option<&[usize]>,
    limit: usize,
) -> Result<Option<Vec<Cell>>, TooLarge> {
    let Some(rest) = explore_keeping(
        patterns,
        others,
        exclude,
        need,
        &|w| by_text.get(w).cloned(),
        &|ps, ex, nd| prefix_split_or_explore(ps, &|_: &Bits| true, ex, nd, limit),
    )?
    else {
        return Ok(None);
    };
    let mut others = Matcher::new(patterns, others);
    let mut out: Vec<Cell> = rest.into_iter().filter(|c| valid(&c.matched)).collect();
    let mut texts: Vec<(&str, &Vec<usize>)> = by_text.iter().map(|(t, v)| (*t, v)).collect();
    texts.sort_unstable_by(|a, b| a.1[0].cmp(&b.1[0]));
    for (text, ids) in texts {
        let mut b = Bits::new(patterns.len());
        for &i in ids.iter().chain(others.matching(text)) {
            b.set(i);
        }
        if valid(&b) {
            out.push(Cell {
                matched: b,
                witness: text.to_owned(),
            });
        }
    }
    Ok(Some(out))
}

/// The patterns `sub` of `patterns`, the positions in `sub` of those
/// excluded, and of those needed (`None` when `need` is).
fn sub_problem(
    patterns: &[Pattern],
    sub: &[usize],
    exclude: &[usize],
    need: Option<&[usize]>,
) -> (Vec<Pattern>, Vec<usize>, Option<Vec<usize>>) {
    let ps = sub.iter().map(|&i| patterns[i].clone()).collect();
    let positions =
        |of: &[usize]| -> Vec<usize> { (0..sub.len()).filter(|&k| of.contains(&sub[k])).collect() };
    (ps, positions(exclude), need.map(positions))
}

/// Sets in `b` the indices `sub[k]` of every position `k` set in `matched`.
fn lift(sub: &[usize], matched: &Bits, b: &mut Bits) {
    for (k, &i) in sub.iter().enumerate() {
        if matched.get(k) {
            b.set(i);
        }
    }
}

/// An exploration of some patterns with some of them excluded (and some needed).
type Explorer<'a> =
    dyn Fn(&[Pattern], &[usize], Option<&[usize]>) -> Result<Vec<Cell>, TooLarge> + 'a;

/// The regions of the strings no split-off pattern claims, for [`literal_split`]
/// and [`prefix_split`]: the patterns `others` and those `kept` are explored
/// together (by `explore`); a region that matches a kept pattern is left to
/// the split-off cells, and a region whose witness is claimed (`claim`: a
/// literal equal to it, a prefix it starts with) keeps the claiming patterns
/// and the exploration runs again, so the region's other strings (if any) get
/// a witness of their own. Cells in `patterns`' indices, not yet filtered by
/// the field's domain (a region that matches none of `need` may be left out).
/// `None` past [`SPLIT_KEPT_MAX`] kept patterns.
fn explore_keeping(
    patterns: &[Pattern],
    others: &[usize],
    exclude: &[usize],
    need: Option<&[usize]>,
    claim: &dyn Fn(&str) -> Option<Vec<usize>>,
    explore: &Explorer,
) -> Result<Option<Vec<Cell>>, TooLarge> {
    let mut kept: Vec<usize> = Vec::new();
    loop {
        let mut sub: Vec<usize> = others.iter().chain(&kept).copied().collect();
        sub.sort_unstable();
        let (sub_patterns, sub_exclude, sub_need) = sub_problem(patterns, &sub, exclude, need);
        let kept_bits: Vec<usize> = (0..sub.len()).filter(|&k| kept.contains(&sub[k])).collect();
        let mut rest = Vec::new();
        let mut more = false;
        for c in explore(&sub_patterns, &sub_exclude, sub_need.as_deref())? {
            if kept_bits.iter().any(|&k| c.matched.get(k)) {
                continue;
            }
            if let Some(ids) = claim(&c.witness) {
                kept.extend(ids);
                more = true;
                continue;
            }
            let mut b = Bits::new(patterns.len());
            lift(&sub, &c.matched, &mut b);
            rest.push(Cell {
                matched: b,
                witness: c.witness,
            });
        }
        if !more {
            return Ok(Some(rest));
        }
        if kept.len() > SPLIT_KEPT_MAX {
            return Ok(None);
        }
    }
}

/// [`cells`] with the prefix patterns `L*` split off, exactly (a prefix `L`
/// that is a proper prefix of another stays with the other patterns `O`):
/// - a string `L·t` matches the prefix patterns of text `L` and no other, and
///   of the other patterns `O` what `t` matches from the state `O` is in after
///   reading `L`: one exploration of `O` per distinct such state (1,000
///   accounts `arn:aws:iam::<account>:*` reach one state), each of its cells
///   one cell per `L`, witness `L` and the cell's suffix;
/// - a string without such a prefix is in a region of `O` and the prefixes
///   `kept`: explored alone, each region whose witness starts with no `L` is
///   one cell; when the witness starts with an `L` not yet kept, that prefix
///   is kept and the exploration runs again, as [`literal_split`] does.
///
/// `None` with fewer than [`PREFIX_SPLIT`] prefix patterns, or when more than
/// [`SPLIT_KEPT_MAX`] prefixes would be kept.
fn prefix_split(
    patterns: &[Pattern],
    valid: &dyn Fn(&Bits) -> bool,
    exclude: &[usize],
    need: Option<&[usize]>,
    limit: usize,
) -> Result<Option<Vec<Cell>>, TooLarge> {
    let mut by_prefix: HashMap<String, Vec<usize>> = HashMap::default();
    let mut others: Vec<usize> = Vec::new();
    for (i, p) in patterns.iter().enumerate() {
        match p.as_prefix() {
            Some(l) => by_prefix.entry(l).or_default().push(i),
            None => others.push(i),
        }
    }
    if patterns.len() - others.len() < PREFIX_SPLIT {
        return Ok(None);
    }
    // A prefix that is a proper prefix of another (`arn:*` next to the
    // accounts' `arn:aws:iam::<account>:*`) is explored with the other
    // patterns. Sorted, a text that is a proper prefix of some text is one of
    // the text right after it.
    let mut texts: Vec<String> = by_prefix.keys().cloned().collect();
    texts.sort_unstable();
    for w in texts.windows(2) {
        if w[1].starts_with(w[0].as_str())
            && let Some(ids) = by_prefix.remove(&w[0])
        {
            others.extend(ids);
        }
    }
    others.sort_unstable();
    if by_prefix.is_empty() {
        return Ok(None);
    }
    let texts: Vec<&String> = by_prefix.keys().collect();
    let mut lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
    lens.sort_unstable();
    lens.dedup();
    let prefix_of = |w: &str| -> Option<&Vec<usize>> {
        lens.iter()
            .take_while(|&&n| n <= w.len())
            .find_map(|&n| w.get(..n).and_then(|h| by_prefix.get(h)))
    };

    // Strings with no prefix `L`.
    let Some(rest) = explore_keeping(
        patterns,
        &others,
        exclude,
        need,
        &|w| prefix_of(w).cloned(),
        &|ps, ex, nd| explore(ps, &|_: &Bits| true, ex, nd, limit),
    )?
    else {
        return Ok(None);
    };
    let mut out: Vec<Cell> = rest.into_iter().filter(|c| valid(&c.matched)).collect();

    // Strings `L·t`, grouped by the state of the other patterns after `L`
    // (prefixes share their heads: the steps are memoized).
    let (o_patterns, o_exclude, o_need) = sub_problem(patterns, &others, exclude, need);
    let mut walk = Matcher::new(&o_patterns, &(0..o_patterns.len()).collect::<Vec<_>>());
    let mut texts: Prefixes = by_prefix.iter().map(|(t, v)| (t.as_str(), v)).collect();
    texts.sort_unstable_by(|a, b| a.1[0].cmp(&b.1[0]));
    let mut groups: HashMap<u32, usize> = HashMap::default();
    let mut grouped: Vec<(u32, Prefixes)> = Vec::new();
    for (text, ids) in texts {
        // Every string of an excluded prefix is outside the field's domain.
        if ids.iter().any(|i| exclude.contains(i)) {
            continue;
        }
        let at = walk.state_after(text);
        let g = *groups.entry(at).or_insert_with(|| {
            grouped.push((at, Vec::new()));
            grouped.len() - 1
        });
        grouped[g].1.push((text, ids));
    }
    for (at, members) in grouped {
        let st = walk.states[at as usize].clone();
        // A prefix that is needed itself makes every continuation wanted.
        let needed_prefix = need.is_some_and(|n| {
            members
                .iter()
                .any(|(_, ids)| ids.iter().any(|i| n.contains(i)))
        });
        let nd = if needed_prefix {
            None
        } else {
            o_need.as_deref()
        };
        let found = explore_from(&o_patterns, st, &|_: &Bits| true, &o_exclude, nd, limit)?;
        for (text, ids) in members {
            for c in &found {
                let mut b = Bits::new(patterns.len());
                for &i in ids {
                    b.set(i);
                }
                lift(&others, &c.matched, &mut b);
                if valid(&b) {
                    out.push(Cell {
                        matched: b,
                        witness: format!("{text}{}", c.witness),
                    });
                }
            }
        }
    }
    Ok(Some(out))
}

/// A state of the product automaton: every live position of every pattern,
/// each as `pattern << 32 | position`, sorted (so grouped by pattern, in
/// pattern order). One allocation per state: the exploration creates many.
type State = Vec<u64>;

fn entry(pattern: usize, position: usize) -> u64 {
    ((pattern as u64) << 32) | position as u64
}

/// `(pattern, position)` of a [`State`] entry.
fn unpack(e: u64) -> (usize, usize) {
    ((e >> 32) as usize, (e & 0xffff_ffff) as usize)
}

/// Sorts `st`, adds the position after every run (a run may match nothing,
/// transitively) and drops repeats.
fn close_state(patterns: &[Pattern], st: &mut State) {
    let mut k = 0;
    while k < st.len() {
        let (i, p) = unpack(st[k]);
        if let Some(Tok::Run(_)) = patterns[i].toks.get(p) {
            st.push(entry(i, p + 1));
        }
        k += 1;
    }
    st.sort_unstable();
    st.dedup();
}

/// The state after reading `c` in `st`.
fn step_state(patterns: &[Pattern], st: &[u64], c: char) -> State {
    let mut out: State = st
        .iter()
        .filter_map(|&e| {
            let (i, p) = unpack(e);
            match patterns[i].toks.get(p) {
                Some(Tok::One(cl)) if cl.has(c) => Some(entry(i, p + 1)),
                Some(Tok::Run(cl)) if cl.has(c) => Some(e),
                _ => None,
            }
        })
        .collect();
    close_state(patterns, &mut out);
    out
}

/// The patterns `st` accepts (each once, in order).
fn accepted<'s>(patterns: &'s [Pattern], st: &'s [u64]) -> impl Iterator<Item = usize> + 's {
    st.iter().filter_map(|&e| {
        let (i, p) = unpack(e);
        (p == patterns[i].toks.len()).then_some(i)
    })
}

/// Prefix texts with the indices of their patterns.
type Prefixes<'a> = Vec<(&'a str, &'a Vec<usize>)>;

fn start_state(patterns: &[Pattern]) -> State {
    let mut st: State = (0..patterns.len())
        .filter(|&i| !patterns[i].never)
        .map(|i| entry(i, 0))
        .collect();
    close_state(patterns, &mut st);
    st
}

/// The exploration of [`cells`] over every pattern.
fn explore(
    patterns: &[Pattern],
    valid: &dyn Fn(&Bits) -> bool,
    exclude: &[usize],
    need: Option<&[usize]>,
    limit: usize,
) -> Result<Vec<Cell>, TooLarge> {
    explore_from(patterns, start_state(patterns), valid, exclude, need, limit)
}

/// [`explore`] of the strings that continue from `start` (witnesses are the
/// continuations).
fn explore_from(
    patterns: &[Pattern],
    start: State,
    valid: &dyn Fn(&Bits) -> bool,
    exclude: &[usize],
    need: Option<&[usize]>,
    limit: usize,
) -> Result<Vec<Cell>, TooLarge> {
    // A state where no needed pattern is live leads to no wanted string (a
    // pattern that died never comes back), so it is neither recorded nor
    // expanded; every state on the way to a wanted one has a needed pattern
    // live, so the order of the others, hence the witnesses, is unchanged.
    let needed: Option<Vec<bool>> = need.map(|n| {
        let mut v = vec![false; patterns.len()];
        n.iter().for_each(|&i| v[i] = true);
        v
    });
    let wanted = |st: &State| {
        needed
            .as_ref()
            .is_none_or(|v| st.iter().any(|&e| v[unpack(e).0]))
    };
    // Character classes: characters accepted by the same classes are interchangeable.
    let mut classes: Vec<&Class> = Vec::new();
    let mut literal_chars: Vec<char> = Vec::new();
    for p in patterns {
        for c in p.classes() {
            if let Class::Chars(v) = c {
                literal_chars.extend(v.iter().copied());
            }
            if !classes.contains(&c) {
                classes.push(c);
            }
        }
    }
    let mut candidates: Vec<char> = PREFERRED.chars().collect();
    candidates.extend((0x21u8..0x7f).map(char::from));
    candidates.extend(literal_chars.iter().copied());
    // A character outside every literal set and outside ASCII.
    if let Some(fresh) = ['\u{e9}', '\u{df}', '\u{2603}', '\u{263a}']
        .into_iter()
        .find(|c| !literal_chars.contains(c))
    {
        candidates.push(fresh);
    }
    let mut alphabet: Vec<char> = Vec::new();
    let mut seen: HashMap<Vec<bool>, usize> = HashMap::default();
    for c in candidates {
        let sig: Vec<bool> = classes.iter().map(|cl| cl.has(c)).collect();
        seen.entry(sig).or_insert_with(|| {
            alphabet.push(c);
            alphabet.len() - 1
        });
    }
    // For each token class, the alphabet indices it accepts.
    let accepts: HashMap<&Class, Vec<usize>> = classes
        .iter()
        .map(|cl| {
            (
                *cl,
                (0..alphabet.len())
                    .filter(|&k| cl.has(alphabet[k]))
                    .collect(),
            )
        })
        .collect();

    let mut index: HashMap<State, usize> = HashMap::default();
    let mut states: Vec<State> = vec![start.clone()];
    let mut parent: Vec<(usize, char)> = vec![(usize::MAX, ' ')];
    index.insert(start, 0);
    let mut found: HashMap<Bits, usize> = HashMap::default();
    let mut order: Vec<Bits> = Vec::new();
    let mut head = 0;
    while head < states.len() {
        if states.len() > limit {
            return Err(TooLarge(states.len()));
        }
        // Never read again (its parent links and index entry stay).
        let st = std::mem::take(&mut states[head]);
        let mut acc = Bits::new(patterns.len());
        for i in accepted(patterns, &st) {
            acc.set(i);
        }
        let doomed = !wanted(&st)
            || st.iter().any(|&e| {
                let (i, p) = unpack(e);
                exclude.contains(&i) && patterns[i].accepts_all_at(p)
            });
        if doomed {
            head += 1;
            continue;
        }
        if !found.contains_key(&acc) && valid(&acc) {
            found.insert(acc.clone(), head);
            order.push(acc);
        }
        if !st.is_empty() {
            // The classes of the live tokens, and every move as (pattern,
            // next position, class). Characters that no live class tells
            // apart reach the same successor, so each such group is stepped
            // once. Groups are taken in the order of their first character,
            // which is the order the successors were first reached when every
            // character was stepped: states, parents and witnesses are the same.
            let mut live: Vec<&Class> = Vec::new();
            let mut moves: Vec<(u64, usize)> = Vec::with_capacity(st.len());
            for &e in &st {
                let (i, pos) = unpack(e);
                let (cl, to) = match patterns[i].toks.get(pos) {
                    Some(Tok::One(c)) => (c, pos + 1),
                    Some(Tok::Run(c)) => (c, pos),
                    None => continue,
                };
                let j = match live.iter().position(|l| *l == cl) {
                    Some(j) => j,
                    None => {
                        live.push(cl);
                        live.len() - 1
                    }
                };
                moves.push((entry(i, to), j));
            }
            let (reps, class_groups) = groups(&alphabet, &live, &accepts);
            let mut next: Vec<State> = vec![Vec::new(); reps.len()];
            for &(to, j) in &moves {
                for &g in &class_groups[j] {
                    next[g].push(to);
                }
            }
            for (g, mut next) in next.into_iter().enumerate() {
                let c = alphabet[reps[g]];
                close_state(patterns, &mut next);
                if !index.contains_key(&next) {
                    index.insert(next.clone(), states.len());
                    states.push(next);
                    parent.push((head, c));
                }
            }
        }
        head += 1;
    }
    Ok(order
        .into_iter()
        .map(|matched| {
            let mut s = Vec::new();
            let mut at = found[&matched];
            while at != 0 {
                let (p, c) = parent[at];
                s.push(c);
                at = p;
            }
            s.reverse();
            Cell {
                matched,
                witness: s.into_iter().collect(),
            }
        })
        .collect())
}

/// The alphabet grouped by the live classes: the first alphabet index of each
/// group (ascending), and for each live class the groups it accepts. More than
/// 128 live classes: one group per character.
fn groups(
    alphabet: &[char],
    live: &[&Class],
    accepts: &HashMap<&Class, Vec<usize>>,
) -> (Vec<usize>, Vec<Vec<usize>>) {
    if live.len() > 128 {
        let reps = (0..alphabet.len()).collect();
        return (reps, live.iter().map(|cl| accepts[*cl].clone()).collect());
    }
    let mut sigs: Vec<u128> = Vec::new();
    let mut reps: Vec<usize> = Vec::new();
    for (k, &c) in alphabet.iter().enumerate() {
        let sig = live
            .iter()
            .enumerate()
            .filter(|(_, cl)| cl.has(c))
            .fold(0u128, |s, (j, _)| s | (1 << j));
        if !sigs.contains(&sig) {
            sigs.push(sig);
            reps.push(k);
        }
    }
    let class_groups = (0..live.len())
        .map(|j| {
            (0..sigs.len())
                .filter(|&g| sigs[g] & (1 << j) != 0)
                .collect()
        })
        .collect();
    (reps, class_groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_arns_match_like_the_evaluator() {
        let cases = [
            (
                "arn:aws:s3:::ambra-dev-*",
                "arn:aws:s3:::ambra-dev-x/y",
                true,
            ),
            ("s3:Get*", "s3:GetObject", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*", "", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(Pattern::glob(p, false).matches(t), want, "{p} {t}");
            assert_eq!(crate::eval::glob(p, t, false), want, "{p} {t}");
        }
        for (p, t) in [
            ("arn:aws:iam::*:role/x", "arn:aws:iam::1:2:role/x"),
            ("arn:aws:iam::1*:role/*", "arn:aws:iam::12:role/a:b"),
            ("arn:*:iam::*:*", "arn:aws:iam::1:root"),
            ("arn:aws:iam::1", "arn:aws:iam::1"),
        ] {
            assert_eq!(
                Pattern::arn(p).matches(t),
                crate::eval::arn_like(p, t),
                "{p} {t}"
            );
        }
        assert!(Pattern::literal("S3:X", true).matches("s3:x"));
        assert!(!Pattern::literal("a*", false).matches("ab"));
    }

    /// Patterns of 127 tokens or more (past the one-`u128` fast path) match
    /// as the evaluator's glob and `ArnLike` do.
    #[test]
    fn long_patterns_match_like_the_evaluator() {
        let long = "Ab".repeat(70);
        let arn = format!("arn:aws:iam::*:role/{long}*");
        for (p, t) in [
            (format!("{long}*"), format!("{long}x")),
            (format!("{long}*"), "ab".repeat(70)),
            (format!("*{long}"), format!("x:{long}")),
            (format!("{long}?"), long.clone()),
            (format!("a*{long}"), format!("A{}", long.to_lowercase())),
        ] {
            let pat = Pattern::glob(&p, true);
            assert!(pat.toks.len() >= 127 && pat.glob.is_none(), "{p}");
            assert_eq!(pat.matches(&t), crate::eval::glob(&p, &t, true), "{p} {t}");
        }
        for t in [
            format!("arn:aws:iam::1:role/{long}"),
            format!("arn:aws:iam::1:role/{long}/x:y"),
            format!("arn:aws:iam::1:2:role/{long}"),
            format!("arn:aws:iam::1:role/{}", long.to_lowercase()),
        ] {
            assert_eq!(
                Pattern::arn(&arn).matches(&t),
                crate::eval::arn_like(&arn, &t),
                "{t}"
            );
        }
    }

    /// The memoized automaton answers as each pattern's own match, for
    /// strings met in any order (steps taken earlier are looked up).
    #[test]
    fn matcher_is_each_patterns_match() {
        let ps = vec![
            Pattern::arn("arn:*:iam::*:role/*"),
            Pattern::arn("arn:aws:iam::2*:*"),
            Pattern::glob("*:root", false),
            Pattern::glob("ARN:AWS:*", true),
            Pattern::literal("arn:aws:iam::200000000001:role/r", false),
            Pattern::glob("a?n:*", false),
            Pattern::never(),
            Pattern::glob("", false),
        ];
        let ids: Vec<usize> = (0..ps.len()).collect();
        let mut m = Matcher::new(&ps, &ids);
        let mut texts: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    "arn:aws:iam::{:012}:role/r{}",
                    199_999_999_900u64 + i,
                    i % 3
                )
            })
            .collect();
        texts.extend(
            [
                "",
                "arn:aws:iam::2:root",
                "ARN:aws:x",
                "abn:",
                "arn:aws:iam::2:role/a:b",
                "x:root",
            ]
            .map(str::to_owned),
        );
        for round in 0..2 {
            for t in &texts {
                let want: Vec<usize> = ids.iter().copied().filter(|&i| ps[i].matches(t)).collect();
                assert_eq!(m.matching(t), &want[..], "round {round}: {t}");
            }
            texts.reverse();
        }
    }

    #[test]
    fn cells_partition_with_witnesses() {
        let ps = [
            Pattern::glob("*", false),
            Pattern::glob("arn:aws:s3:::ambra-dev-*", false),
            Pattern::glob("arn:aws:s3:::ambra-*", false),
            Pattern::literal("arn:aws:s3:::ambra-dev-x", false),
        ];
        let cs = cells(&ps, &|b: &Bits| b.get(0), &[], None, 10_000).unwrap();
        // {*}, {*, ambra-*}, {*, ambra-*, ambra-dev-*}, {all four}
        assert_eq!(cs.len(), 4);
        for c in &cs {
            for (i, p) in ps.iter().enumerate() {
                assert_eq!(p.matches(&c.witness), c.matched.get(i), "{}", c.witness);
            }
        }
    }

    /// `got` is `whole`'s partition (the same sets of matched patterns), and
    /// every witness of `got` matches exactly its cell's patterns.
    fn assert_same_partition(patterns: &[Pattern], whole: &[Cell], got: &[Cell], what: &str) {
        let bits = |cs: &[Cell]| {
            let mut v: Vec<Vec<bool>> = cs
                .iter()
                .map(|c| (0..patterns.len()).map(|i| c.matched.get(i)).collect())
                .collect();
            v.sort();
            v
        };
        assert_eq!(bits(whole), bits(got), "{what}: {patterns:?}");
        for c in got {
            for (i, p) in patterns.iter().enumerate() {
                assert_eq!(
                    p.matches(&c.witness),
                    c.matched.get(i),
                    "{what}: {:?}",
                    c.witness
                );
            }
        }
    }

    /// The split partition is the exploration's: the same set of cells, each
    /// witness matching exactly its cell's patterns. Literals are chosen to
    /// collide with the other patterns' shortest strings (`x`, `:`, the empty
    /// string), so the split has to keep some and explore again.
    fn split_agrees(patterns: &[Pattern], exclude: &[usize]) {
        let valid = |b: &Bits| !exclude.iter().any(|&i| b.get(i));
        let whole = explore(patterns, &valid, exclude, None, 100_000).unwrap();
        let (by_text, others) = by_literal(patterns);
        let split = literal_split(patterns, &by_text, &others, &valid, exclude, None, 100_000)
            .unwrap()
            .expect("within the kept bound");
        assert_same_partition(patterns, &whole, &split, "literal split");
    }

    #[test]
    fn literal_split_is_the_exploration() {
        // Every string over {x, :} up to length 3 as a literal: each region of
        // the globs has its shortest strings taken by literals.
        let mut lits = vec![String::new()];
        for len in 1..=3 {
            let mut more = Vec::new();
            for l in lits.iter().filter(|l| l.len() == len - 1) {
                for c in ['x', ':'] {
                    more.push(format!("{l}{c}"));
                }
            }
            lits.extend(more);
        }
        let globs = ["*", "x*", "*:", "?", "x?x", "*x*", "::*"];
        let mut seed = 7u64;
        for round in 0..200 {
            let mut ps: Vec<Pattern> = Vec::new();
            for l in &lits {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if !(seed >> 33).is_multiple_of(4) || round == 0 {
                    ps.push(Pattern::literal(l, false));
                }
            }
            for g in &globs {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if (seed >> 33).is_multiple_of(2) {
                    ps.push(if (seed >> 40).is_multiple_of(3) {
                        Pattern::arn(&format!("a:b:c:d:e:{g}"))
                    } else {
                        Pattern::glob(g, (seed >> 45).is_multiple_of(2))
                    });
                }
            }
            ps.push(Pattern::literal("x", false));
            let exclude: Vec<usize> = if round % 5 == 0 {
                vec![ps.len() - 1]
            } else {
                Vec::new()
            };
            split_agrees(&ps, &exclude);
        }
    }

    /// Every string over `alphabet` of exactly `len` characters.
    fn strings(alphabet: &[char], len: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        for _ in 0..len {
            out = out
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
        }
        out
    }

    /// A reproducible pseudo-random sequence (a linear congruential generator).
    fn lcg(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        }
    }

    /// Each of `texts` as `make(text)`, unless `next()` is a multiple of
    /// `drop_one_in` (about one in that many is left out).
    fn some_of(
        texts: &[String],
        drop_one_in: u64,
        next: &mut impl FnMut() -> u64,
        make: impl Fn(&str) -> Pattern,
    ) -> Vec<Pattern> {
        texts
            .iter()
            .filter(|_| !next().is_multiple_of(drop_one_in))
            .map(|t| make(t))
            .collect()
    }

    /// About half of `globs`: a third of those as the last component of an
    /// ARN pattern when `arns`, the others case-insensitive half the time.
    fn some_globs(globs: &[&str], arns: bool, next: &mut impl FnMut() -> u64) -> Vec<Pattern> {
        let mut ps = Vec::new();
        for g in globs {
            let r = next();
            if r.is_multiple_of(2) {
                ps.push(if arns && (r >> 8).is_multiple_of(3) {
                    Pattern::arn(&format!("a:b:c:d:e:{g}"))
                } else {
                    Pattern::glob(g, (r >> 12).is_multiple_of(2))
                });
            }
        }
        ps
    }

    /// [`cells`] is the whole exploration, witnesses included, when it takes
    /// the prefix split (and the literal split around it): prefixes `L*`
    /// that the other patterns' witnesses start with (so some are kept and
    /// explored again), literals inside and outside them, and excluded
    /// prefixes, literals and globs.
    #[test]
    fn prefix_split_is_the_exploration() {
        let prefixes = strings(&['x', ':', 'y'], 4);
        let mut literals: Vec<String> = Vec::new();
        for len in 0..=5 {
            literals.extend(strings(&['x', ':'], len));
        }
        let globs = ["*", "*:", "?", "x?x", "*x*", "::?*", "xx:x?*", "*y"];
        let mut next = lcg(11);
        let (mut split, mut fallback) = (0, 0);
        for round in 0..120 {
            let mut ps = some_of(&prefixes, 4, &mut next, |l| {
                Pattern::glob(&format!("{l}*"), false)
            });
            // Prefixes of those prefixes (`arn:*` next to `arn:aws:iam::<account>:*`).
            for l in ["x", ":x", "xy:"] {
                if next().is_multiple_of(3) {
                    ps.push(Pattern::glob(&format!("{l}*"), false));
                }
            }
            if round % 2 == 0 {
                ps.extend(some_of(&literals, 3, &mut next, |l| {
                    Pattern::literal(l, false)
                }));
            }
            ps.extend(some_globs(&globs, true, &mut next));
            let exclude: Vec<usize> = match round % 4 {
                0 => vec![0],
                1 => vec![ps.len() - 1],
                _ => Vec::new(),
            };
            let valid = |b: &Bits| !exclude.iter().any(|&i| b.get(i));
            let whole = explore(&ps, &valid, &exclude, None, 1_000_000).unwrap();
            let got = cells(&ps, &valid, &exclude, None, 1_000_000).unwrap();
            assert_same_partition(&ps, &whole, &got, &format!("round {round}"));
            match prefix_split(&ps, &valid, &exclude, None, 1_000_000).unwrap() {
                Some(_) => split += 1,
                None => fallback += 1,
            }
        }
        // The split answered most rounds itself (not the fallback).
        assert!(split > 100, "split {split}, fallback {fallback}");
    }

    /// A field's domain (`need`) cuts only subtrees of unwanted strings: the
    /// exploration with it is the exploration without it, filtered, witnesses
    /// and order included, and the splits give the same partition.
    #[test]
    fn needed_patterns_cut_only_unwanted_strings() {
        // Enough of each for the splits (`PREFIX_SPLIT`, `LITERAL_SPLIT`).
        let prefixes = strings(&['x', ':', 'y'], 4);
        let mut literals = strings(&['x', ':'], 5);
        literals.extend(strings(&['x', ':'], 6));
        let globs = ["*", "*:", "?", "x?x", "*x*", "::?*", "xx:x?*", "*y", "y:*"];
        let mut next = lcg(23);
        let mut pruned = 0;
        for round in 0..150 {
            let mut ps: Vec<Pattern> = Vec::new();
            if round % 3 != 0 {
                ps = some_of(&prefixes, 3, &mut next, |l| {
                    Pattern::glob(&format!("{l}*"), false)
                });
                ps.extend(some_of(&literals, 2, &mut next, |l| {
                    Pattern::literal(l, false)
                }));
            }
            ps.extend(some_globs(&globs, false, &mut next));
            if ps.is_empty() {
                continue;
            }
            let need: Vec<usize> = (0..1 + next() as usize % 3)
                .map(|_| next() as usize % ps.len())
                .collect();
            let exclude: Vec<usize> = if round % 4 == 1 {
                vec![next() as usize % ps.len()]
            } else {
                Vec::new()
            };
            let valid =
                |b: &Bits| need.iter().any(|&i| b.get(i)) && !exclude.iter().any(|&i| b.get(i));
            let whole = explore(&ps, &valid, &exclude, None, 1_000_000).unwrap();
            let cut = explore(&ps, &valid, &exclude, Some(&need), 1_000_000).unwrap();
            let pairs = |cs: &[Cell]| -> Vec<(Bits, String)> {
                cs.iter()
                    .map(|c| (c.matched.clone(), c.witness.clone()))
                    .collect()
            };
            assert_eq!(
                pairs(&whole),
                pairs(&cut),
                "round {round}: {ps:?} need {need:?}"
            );
            let got = cells(&ps, &valid, &exclude, Some(&need), 1_000_000).unwrap();
            assert_same_partition(&ps, &whole, &got, &format!("round {round}, split"));
            let all = explore(&ps, &|_: &Bits| true, &exclude, None, 1_000_000).unwrap();
            if all.len() > whole.len() {
                pruned += 1;
            }
        }
        // Most rounds had strings outside the domain to cut.
        assert!(pruned > 100, "pruned {pruned}");
    }

    #[test]
    fn nested_prefixes_are_explored_with_the_others() {
        // `x*` and `xy*` are prefixes of other prefixes: they stay with the
        // other patterns, and the split still answers, exactly.
        let mut ps: Vec<Pattern> = strings(&['x', 'y'], 5)
            .iter()
            .map(|l| Pattern::glob(&format!("{l}*"), false))
            .collect();
        ps.push(Pattern::glob("xy*", false));
        ps.push(Pattern::glob("x*", false));
        ps.push(Pattern::glob("*y", false));
        let all = |_: &Bits| true;
        let split = prefix_split(&ps, &all, &[], None, 100_000)
            .unwrap()
            .expect("nested prefixes do not stop the split");
        let whole = explore(&ps, &all, &[], None, 100_000).unwrap();
        assert_same_partition(&ps, &whole, &split, "nested prefixes");
    }

    #[test]
    fn many_literals_take_the_split() {
        // 1,000 role ARNs and a wildcard over them: one cell per ARN, one for
        // the other strings, and the split path is what answers.
        let mut ps: Vec<Pattern> = (0..1000)
            .map(|i| {
                Pattern::literal(
                    &format!("arn:aws:iam::{:012}:role/r", 200_000_000_000u64 + i),
                    false,
                )
            })
            .collect();
        ps.push(Pattern::arn("arn:aws:iam::*:role/*"));
        ps.push(Pattern::glob("*", false));
        let cs = cells(&ps, &|_: &Bits| true, &[], None, 100).unwrap();
        assert_eq!(cs.len(), 1002);
        let (by_text, others) = by_literal(&ps);
        assert!(
            literal_split(&ps, &by_text, &others, &|_: &Bits| true, &[], None, 100)
                .unwrap()
                .is_some()
        );
        assert!(
            explore(&ps, &|_: &Bits| true, &[], None, 100).is_err(),
            "the whole exploration passes the limit"
        );
    }
}
