//! The NuGet v2 (OData v2, AtomPub) feed that nuget.exe 2.x reads: parsing of its request
//! paths and query options, selection of entries, and its XML documents. Pure: no I/O.
//!
//! The protocol is nuget.org's v2 feed (`/api/v2`), which is WCF Data Services over the
//! `V2FeedPackage` entity: <https://www.odata.org/documentation/odata-version-2-0/uri-conventions/>
//! for the URL conventions, <https://learn.microsoft.com/en-us/nuget/api/overview> for what
//! remains of its documentation, and `shared/CLIENTS.md` for what nuget 2.8.7 sends.
//!
//! Served here: the service document (`v2`, `v2/`), `$metadata`, `Packages`/`Packages()`,
//! `Packages(Id='X',Version='Y')`, `FindPackagesById()?id='X'`, `Search()` and
//! `GetUpdates()`, each collection also as `/$count`; query options `$filter` (the subset
//! clients send: see [`parse_filter`]), `$orderby`, `$top`, `$skip`, `$inlinecount`;
//! `$select`, `$expand` and `$format=atom` are accepted and ignored.
//!
//! Client quirks this follows:
//! - nuget 2.x materializes `Id`, `Authors`, `Summary` and `LastUpdated` from the Atom
//!   `title`, `author/name`, `summary` and `updated` elements (its `DataServicePackage`
//!   maps them with `EntityPropertyMapping`), so those carry the values; they are in
//!   `m:properties` as well for other readers.
//! - nuget 2.x counts a package as listed when `Published` is after 1900 (nuget.org writes
//!   `1900-01-01T00:00:00` for unlisted versions), so an unlisted version says so there too.
//! - nuget 2.x cannot parse SemVer 2.0.0 versions (dotted labels, metadata): as nuget.org
//!   does, collections leave them out unless the request says `semVerLevel=2.0.0`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;

use base64::Engine as _;
use percent_encoding::percent_decode_str;

use packyard_core::model::Millis;

use crate::index::VersionEntry;

/// Longest query string read, in bytes.
pub const MAX_QUERY: usize = 4096;
/// Deepest nesting of a `$filter` (parentheses, `not`, function calls).
pub const MAX_FILTER_DEPTH: usize = 16;
/// Most nodes of a `$filter` expression.
pub const MAX_FILTER_NODES: usize = 128;
/// Most ids a `GetUpdates()` asks about.
pub const MAX_UPDATE_IDS: usize = 100;
/// Entries per page (nuget.org's v2 page size): a larger `$top`, or none, gets this many
/// and a `<link rel="next">` to the rest.
pub const PAGE_SIZE: u64 = 100;

/// The OData namespaces of the feed.
const ATOM: &str = "http://www.w3.org/2005/Atom";
const DATA: &str = "http://schemas.microsoft.com/ado/2007/08/dataservices";
const META: &str = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata";
const SCHEME: &str = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme";
const ENTITY_TYPE: &str = "NuGetGallery.V2FeedPackage";

pub const FEED_CONTENT_TYPE: &str = "application/atom+xml;type=feed;charset=utf-8";
pub const ENTRY_CONTENT_TYPE: &str = "application/atom+xml;type=entry;charset=utf-8";
pub const XML_CONTENT_TYPE: &str = "application/xml;charset=utf-8";
pub const COUNT_CONTENT_TYPE: &str = "text/plain;charset=utf-8";

// ------------------------------------------------------------------ requests

/// What a v2 request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `v2`, `v2/`: the AtomPub service document.
    Service,
    /// `v2/$metadata`: the EDMX.
    Metadata,
    /// `Packages(Id='X',Version='Y')`: one entry.
    Package { id: String, version: String },
    /// A collection: `Packages`, `FindPackagesById()`, `Search()`, `GetUpdates()`.
    Collection(Collection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Packages,
    FindPackagesById,
    Search,
    GetUpdates,
}

impl Collection {
    /// The name as the URL and the feed's title spell it.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Packages => "Packages",
            Collection::FindPackagesById => "FindPackagesById",
            Collection::Search => "Search",
            Collection::GetUpdates => "GetUpdates",
        }
    }
}

/// A parsed request: the resource and its query options.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub resource: Resource,
    /// `/$count`: the number of entries, as plain text.
    pub count: bool,
    pub options: Options,
}

/// The query options of a request, decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub filter: Option<Expr>,
    /// Empty: the collection's own order.
    pub orderby: Vec<OrderKey>,
    pub top: Option<u64>,
    pub skip: u64,
    /// `$inlinecount=allpages`: the total in `<m:count>`.
    pub inline_count: bool,
    /// `FindPackagesById`'s `id`.
    pub id: Option<String>,
    /// `Search`'s `searchTerm` (empty matches every id).
    pub search_term: String,
    /// `Search`'s `targetFramework` and `GetUpdates`' `targetFrameworks` (read, not used:
    /// packages are not filtered by framework here).
    pub target_framework: String,
    /// `Search`'s and `GetUpdates`' `includePrerelease`.
    pub include_prerelease: bool,
    /// `GetUpdates`' `includeAllVersions`.
    pub include_all_versions: bool,
    /// `GetUpdates`' `packageIds` and `versions`, paired, and `versionConstraints`.
    pub updates: Vec<UpdateQuery>,
    /// `semVerLevel=2.0.0`: the client reads SemVer 2.0.0 versions.
    pub semver2: bool,
    /// Every option as it came (still encoded), to build the next page's link.
    pub raw: Vec<(String, String)>,
}

/// One package of a `GetUpdates()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateQuery {
    pub id: String,
    pub version: String,
    /// A version range the update must be in (`versionConstraints`), as written.
    pub constraint: Option<String>,
}

/// Why a v2 request is refused: 400 (or 404 for an unknown path) with this sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Bad(String),
    #[error("{0}")]
    NotFound(String),
}

fn bad(msg: impl Into<String>) -> QueryError {
    QueryError::Bad(msg.into())
}

/// Decodes `%XX` (and `+` as a space, as forms and WCF clients write it) into text.
fn decode(s: &str, plus_is_space: bool) -> Result<String, QueryError> {
    let s: Cow<'_, str> = if plus_is_space && s.contains('+') {
        Cow::Owned(s.replace('+', " "))
    } else {
        Cow::Borrowed(s)
    };
    percent_decode_str(&s)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| bad("the request URL is not valid UTF-8 once percent-decoded"))
}

/// Parses a request: `path` is what follows `/nuget/v2` in the URL (still percent-encoded,
/// possibly empty or `/`), `query` the query string without `?`.
pub fn parse_request(path: &str, query: &str) -> Result<Request, QueryError> {
    if query.len() > MAX_QUERY {
        return Err(bad(format!(
            "the query string is {} bytes long; at most {MAX_QUERY} are read",
            query.len()
        )));
    }
    let path = decode(path, false)?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    let (path, count) = match path.strip_suffix("/$count") {
        Some(p) => (p, true),
        None => (path, false),
    };
    let resource = parse_resource(path)?;
    if count && !matches!(resource, Resource::Collection(_)) {
        return Err(QueryError::NotFound(format!(
            "$count is served for collections (Packages, FindPackagesById(), Search(), \
             GetUpdates()), not for '{path}'"
        )));
    }
    let options = parse_options(query, &resource)?;
    Ok(Request {
        resource,
        count,
        options,
    })
}

fn parse_resource(path: &str) -> Result<Resource, QueryError> {
    let collection = |name: &str| -> Option<Collection> {
        let bare = name.strip_suffix("()").unwrap_or(name);
        match bare {
            "Packages" => Some(Collection::Packages),
            "FindPackagesById" => Some(Collection::FindPackagesById),
            "Search" => Some(Collection::Search),
            "GetUpdates" => Some(Collection::GetUpdates),
            _ => None,
        }
    };
    match path {
        "" => return Ok(Resource::Service),
        "$metadata" => return Ok(Resource::Metadata),
        _ => {}
    }
    if let Some(c) = collection(path) {
        return Ok(Resource::Collection(c));
    }
    if let Some(key) = path
        .strip_prefix("Packages(")
        .and_then(|k| k.strip_suffix(')'))
    {
        return parse_key(key);
    }
    Err(QueryError::NotFound(format!(
        "the v2 feed has no resource '{path}'; it serves $metadata, Packages, \
         Packages(Id='ID',Version='VERSION'), FindPackagesById(), Search() and GetUpdates()"
    )))
}

/// `Id='X',Version='Y'` (either order).
fn parse_key(key: &str) -> Result<Resource, QueryError> {
    let wrong = || {
        bad(format!(
            "a package is addressed as Packages(Id='ID',Version='VERSION'), not Packages({key})"
        ))
    };
    let mut lexer = Lexer {
        rest: key,
        key: true,
    };
    let mut id = None;
    let mut version = None;
    loop {
        let name = match lexer.next()? {
            Some(Token::Ident(n)) => n,
            _ => return Err(wrong()),
        };
        if lexer.next()? != Some(Token::Ident("eq".into())) {
            return Err(wrong());
        }
        let value = match lexer.next()? {
            Some(Token::Str(s)) => s,
            _ => return Err(wrong()),
        };
        let slot = match name.as_str() {
            "Id" => &mut id,
            "Version" => &mut version,
            _ => return Err(wrong()),
        };
        if slot.replace(value).is_some() {
            return Err(wrong());
        }
        match lexer.next()? {
            None => break,
            Some(Token::Comma) => continue,
            _ => return Err(wrong()),
        }
    }
    match (id, version) {
        (Some(id), Some(version)) => Ok(Resource::Package { id, version }),
        _ => Err(wrong()),
    }
}

/// A function parameter: `'text'` (OData string literal, `''` for a quote); a value
/// without quotes is taken as it is.
fn string_param(name: &str, value: &str) -> Result<String, QueryError> {
    let v = value.trim();
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        let inner = &v[1..v.len() - 1];
        if inner.replace("''", "").contains('\'') {
            return Err(bad(format!(
                "{name} has an unescaped quote; write a quote inside a string as ''"
            )));
        }
        Ok(inner.replace("''", "'"))
    } else if v.starts_with('\'') || v.ends_with('\'') {
        Err(bad(format!("{name} has an unclosed quote: {name}={v}")))
    } else {
        Ok(v.to_owned())
    }
}

fn bool_param(name: &str, value: &str) -> Result<bool, QueryError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "'true'" => Ok(true),
        "false" | "'false'" | "" => Ok(false),
        _ => Err(bad(format!("{name} must be true or false, not '{value}'"))),
    }
}

fn number_param(name: &str, value: &str) -> Result<u64, QueryError> {
    value.trim().parse::<u64>().map_err(|_| {
        bad(format!(
            "{name} must be a whole number of entries (0 or more), not '{value}'"
        ))
    })
}

fn parse_options(query: &str, resource: &Resource) -> Result<Options, QueryError> {
    let mut o = Options::default();
    let mut seen: Vec<String> = Vec::new();
    let mut package_ids = None;
    let mut versions = None;
    let mut constraints = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k, true)?;
        let value = decode(v, true)?;
        if seen.contains(&key) {
            return Err(bad(format!("the query option {key} is given twice")));
        }
        seen.push(key.clone());
        o.raw.push((k.to_owned(), v.to_owned()));
        match key.as_str() {
            "$filter" => o.filter = Some(parse_filter(&value)?),
            "$orderby" => o.orderby = parse_orderby(&value)?,
            "$top" => o.top = Some(number_param("$top", &value)?),
            "$skip" => o.skip = number_param("$skip", &value)?,
            "$inlinecount" => match value.as_str() {
                "allpages" => o.inline_count = true,
                "none" => o.inline_count = false,
                _ => {
                    return Err(bad(format!(
                        "$inlinecount must be allpages or none, not '{value}'"
                    )))
                }
            },
            "$format" => {
                if !matches!(value.as_str(), "atom" | "application/atom+xml" | "xml") {
                    return Err(bad(format!(
                        "this v2 feed answers in Atom only; $format={value} is not served"
                    )));
                }
            }
            "$skiptoken" => {
                return Err(bad(
                    "$skiptoken is not understood here; follow the feed's next link, \
                     which pages with $skip",
                ))
            }
            "id" => o.id = Some(string_param("id", &value)?),
            "searchTerm" => o.search_term = string_param("searchTerm", &value)?,
            "targetFramework" | "targetFrameworks" => {
                o.target_framework = string_param(&key, &value)?
            }
            "includePrerelease" => o.include_prerelease = bool_param(&key, &value)?,
            "includeAllVersions" => o.include_all_versions = bool_param(&key, &value)?,
            "packageIds" => package_ids = Some(string_param(&key, &value)?),
            "versions" => versions = Some(string_param(&key, &value)?),
            "versionConstraints" => constraints = Some(string_param(&key, &value)?),
            "semVerLevel" => {
                let level = string_param(&key, &value)?;
                o.semver2 = level.split('.').next().and_then(|m| m.parse::<u32>().ok()) >= Some(2);
            }
            // $select and $expand change nothing here (every entry has every property and
            // nothing to expand); anything else is not ours to refuse.
            _ => {}
        }
    }
    match resource {
        Resource::Collection(Collection::FindPackagesById) if o.id.is_none() => {
            return Err(bad(
                "FindPackagesById() needs the package id: FindPackagesById()?id='ID'",
            ));
        }
        Resource::Collection(Collection::GetUpdates) => {
            o.updates = parse_updates(package_ids, versions, constraints)?;
        }
        _ => {}
    }
    Ok(o)
}

fn parse_updates(
    ids: Option<String>,
    versions: Option<String>,
    constraints: Option<String>,
) -> Result<Vec<UpdateQuery>, QueryError> {
    let (Some(ids), Some(versions)) = (ids, versions) else {
        return Err(bad(
            "GetUpdates() needs packageIds='A|B' and versions='1.0|2.0' (one version per id)",
        ));
    };
    let split = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split('|').map(|p| p.trim().to_owned()).collect()
        }
    };
    let ids = split(&ids);
    let versions = split(&versions);
    if ids.len() != versions.len() {
        return Err(bad(format!(
            "GetUpdates() got {} package ids and {} versions; give one version per id",
            ids.len(),
            versions.len()
        )));
    }
    if ids.len() > MAX_UPDATE_IDS {
        return Err(bad(format!(
            "GetUpdates() asks about {} packages; at most {MAX_UPDATE_IDS} at a time",
            ids.len()
        )));
    }
    let constraints = constraints.map(|c| split(&c));
    if let Some(c) = &constraints {
        if c.len() != ids.len() {
            return Err(bad(format!(
                "GetUpdates() got {} version constraints for {} package ids; give one per id \
                 (empty for none)",
                c.len(),
                ids.len()
            )));
        }
    }
    Ok(ids
        .into_iter()
        .zip(versions)
        .enumerate()
        .map(|(i, (id, version))| UpdateQuery {
            id,
            version,
            constraint: constraints
                .as_ref()
                .and_then(|c| c.get(i))
                .filter(|c| !c.is_empty())
                .cloned(),
        })
        .collect())
}

// ------------------------------------------------------------------ $filter

/// A property of `V2FeedPackage` that a filter or an order reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Version,
    NormalizedVersion,
    Title,
    Description,
    Summary,
    Tags,
    Authors,
    IsLatestVersion,
    IsAbsoluteLatestVersion,
    IsPrerelease,
    Listed,
    DownloadCount,
    Published,
    Created,
    LastUpdated,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "Id" => Field::Id,
            "Version" => Field::Version,
            "NormalizedVersion" => Field::NormalizedVersion,
            "Title" => Field::Title,
            "Description" => Field::Description,
            "Summary" => Field::Summary,
            "Tags" => Field::Tags,
            "Authors" => Field::Authors,
            "IsLatestVersion" => Field::IsLatestVersion,
            "IsAbsoluteLatestVersion" => Field::IsAbsoluteLatestVersion,
            "IsPrerelease" => Field::IsPrerelease,
            "Listed" => Field::Listed,
            "DownloadCount" => Field::DownloadCount,
            "Published" => Field::Published,
            "Created" => Field::Created,
            "LastUpdated" => Field::LastUpdated,
            _ => return None,
        })
    }

    fn ty(self) -> Ty {
        match self {
            Field::IsLatestVersion
            | Field::IsAbsoluteLatestVersion
            | Field::IsPrerelease
            | Field::Listed => Ty::Bool,
            Field::DownloadCount | Field::Published | Field::Created | Field::LastUpdated => {
                Ty::Other
            }
            _ => Ty::Str,
        }
    }
}

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Field(Field),
    Str(String),
    Bool(bool),
    ToLower(Box<Expr>),
    ToUpper(Box<Expr>),
    Trim(Box<Expr>),
    /// `substringof('needle', haystack)`.
    SubstringOf(Box<Expr>, Box<Expr>),
    StartsWith(Box<Expr>, Box<Expr>),
    EndsWith(Box<Expr>, Box<Expr>),
    Eq(Box<Expr>, Box<Expr>),
    Ne(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Bool,
    /// Numbers and dates: read by `$orderby`, not comparable in a filter here.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Open,
    Close,
    Comma,
}

struct Lexer<'a> {
    rest: &'a str,
    /// In an entity key (`Id='X',Version='Y'`), where `=` is read as `eq`.
    key: bool,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer {
            rest: s,
            key: false,
        }
    }

    fn next(&mut self) -> Result<Option<Token>, QueryError> {
        self.rest = self.rest.trim_start();
        let mut chars = self.rest.char_indices();
        let Some((_, c)) = chars.next() else {
            return Ok(None);
        };
        let (token, len) = match c {
            '(' => (Token::Open, 1),
            ')' => (Token::Close, 1),
            ',' => (Token::Comma, 1),
            '=' if self.key => (Token::Ident("eq".into()), 1),
            '\'' => {
                let mut out = String::new();
                let bytes = self.rest.as_bytes();
                let mut i = 1;
                loop {
                    let Some(&b) = bytes.get(i) else {
                        return Err(bad("a string in $filter has no closing quote"));
                    };
                    if b == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            out.push('\'');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    // Copy one whole character.
                    let ch_len = self.rest[i..].chars().next().map_or(1, char::len_utf8);
                    out.push_str(&self.rest[i..i + ch_len]);
                    i += ch_len;
                }
                (Token::Str(out), i + 1)
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '$' => {
                let len = self
                    .rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                    .unwrap_or(self.rest.len());
                (Token::Ident(self.rest[..len].to_owned()), len)
            }
            other => {
                return Err(bad(format!(
                    "$filter has an unexpected character '{other}'"
                )))
            }
        };
        self.rest = &self.rest[len..];
        Ok(Some(token))
    }

    fn peek(&self) -> Result<Option<Token>, QueryError> {
        Lexer {
            rest: self.rest,
            key: self.key,
        }
        .next()
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    depth: usize,
    nodes: usize,
}

const FILTER_HELP: &str = "supported: the fields Id, Version, NormalizedVersion, Title, \
    Description, Summary, Tags, Authors, IsLatestVersion, IsAbsoluteLatestVersion, \
    IsPrerelease, Listed; eq, ne, and, or, not, parentheses; tolower, toupper, trim, \
    substringof, startswith, endswith; 'strings', true, false";

/// Parses a `$filter`: the boolean expressions NuGet clients send
/// (`IsLatestVersion`, `IsAbsoluteLatestVersion`, `tolower(Id) eq 'x'`, `Id eq 'X'`,
/// `and`/`or`/`not`, parentheses, `substringof`/`startswith`/`endswith` over the text
/// fields). Anything else is refused with a sentence naming what is supported.
pub fn parse_filter(text: &str) -> Result<Expr, QueryError> {
    let mut p = Parser {
        lexer: Lexer::new(text),
        depth: 0,
        nodes: 0,
    };
    let e = p.or()?;
    if let Some(t) = p.lexer.next()? {
        return Err(bad(format!(
            "$filter has something after a complete expression ({}); {FILTER_HELP}",
            describe(&t)
        )));
    }
    if ty(&e)? != Ty::Bool {
        return Err(bad(format!(
            "$filter must be a true/false expression, such as IsLatestVersion or \
             tolower(Id) eq 'x'; {FILTER_HELP}"
        )));
    }
    Ok(e)
}

fn describe(t: &Token) -> String {
    match t {
        Token::Ident(s) => format!("'{s}'"),
        Token::Str(s) => format!("the string '{s}'"),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Comma => "','".into(),
    }
}

impl Parser<'_> {
    fn node(&mut self) -> Result<(), QueryError> {
        self.nodes += 1;
        if self.nodes > MAX_FILTER_NODES {
            return Err(bad(format!(
                "$filter has more than {MAX_FILTER_NODES} terms"
            )));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(bad(format!(
                "$filter nests deeper than {MAX_FILTER_DEPTH} levels"
            )));
        }
        Ok(())
    }

    fn keyword(&self, word: &str) -> Result<bool, QueryError> {
        Ok(self.lexer.peek()? == Some(Token::Ident(word.into())))
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.keyword("or")? {
            self.lexer.next()?;
            self.node()?;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.comparison()?;
        while self.keyword("and")? {
            self.lexer.next()?;
            self.node()?;
            let right = self.comparison()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, QueryError> {
        let left = self.unary()?;
        for (word, ne) in [("eq", false), ("ne", true)] {
            if self.keyword(word)? {
                self.lexer.next()?;
                self.node()?;
                let right = self.unary()?;
                let (l, r) = (Box::new(left), Box::new(right));
                return Ok(if ne { Expr::Ne(l, r) } else { Expr::Eq(l, r) });
            }
        }
        for word in ["gt", "ge", "lt", "le"] {
            if self.keyword(word)? {
                return Err(bad(format!(
                    "$filter's '{word}' is not supported here; {FILTER_HELP}"
                )));
            }
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.keyword("not")? {
            self.lexer.next()?;
            self.node()?;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        self.node()?;
        match self.lexer.next()? {
            Some(Token::Open) => {
                self.enter()?;
                let e = self.or()?;
                self.depth -= 1;
                self.expect(Token::Close, "a ')'")?;
                Ok(e)
            }
            Some(Token::Str(s)) => Ok(Expr::Str(s)),
            Some(Token::Ident(word)) => {
                if word == "true" || word == "false" {
                    return Ok(Expr::Bool(word == "true"));
                }
                if let Some(f) = Field::parse(&word) {
                    return Ok(Expr::Field(f));
                }
                let arity = match word.as_str() {
                    "tolower" | "toupper" | "trim" => 1,
                    "substringof" | "startswith" | "endswith" => 2,
                    _ => {
                        return Err(bad(format!(
                            "$filter does not know '{word}'; {FILTER_HELP}"
                        )))
                    }
                };
                self.expect(Token::Open, &format!("'(' after {word}"))?;
                self.enter()?;
                let first = self.or()?;
                let second = if arity == 2 {
                    self.expect(Token::Comma, &format!("a second argument of {word}"))?;
                    Some(self.or()?)
                } else {
                    None
                };
                self.depth -= 1;
                self.expect(Token::Close, &format!("')' closing {word}"))?;
                let a = Box::new(first);
                Ok(match (word.as_str(), second) {
                    ("tolower", _) => Expr::ToLower(a),
                    ("toupper", _) => Expr::ToUpper(a),
                    ("trim", _) => Expr::Trim(a),
                    ("substringof", Some(b)) => Expr::SubstringOf(a, Box::new(b)),
                    ("startswith", Some(b)) => Expr::StartsWith(a, Box::new(b)),
                    (_, Some(b)) => Expr::EndsWith(a, Box::new(b)),
                    (_, None) => return Err(bad(format!("{word} takes two arguments"))),
                })
            }
            Some(t) => Err(bad(format!(
                "$filter has {} where a value was expected; {FILTER_HELP}",
                describe(&t)
            ))),
            None => Err(bad(format!("$filter ends early; {FILTER_HELP}"))),
        }
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), QueryError> {
        match self.lexer.next()? {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(bad(format!(
                "$filter expected {what} but found {}",
                describe(&t)
            ))),
            None => Err(bad(format!("$filter ends where {what} was expected"))),
        }
    }
}

/// The type of an expression, or why it does not type-check.
fn ty(e: &Expr) -> Result<Ty, QueryError> {
    let want = |e: &Expr, t: Ty, what: &str| -> Result<(), QueryError> {
        if ty(e)? == t {
            Ok(())
        } else {
            Err(bad(format!("$filter: {what}")))
        }
    };
    Ok(match e {
        Expr::Field(f) => f.ty(),
        Expr::Str(_) => Ty::Str,
        Expr::Bool(_) => Ty::Bool,
        Expr::ToLower(a) | Expr::ToUpper(a) | Expr::Trim(a) => {
            want(
                a,
                Ty::Str,
                "tolower, toupper and trim take a text field or string",
            )?;
            Ty::Str
        }
        Expr::SubstringOf(a, b) | Expr::StartsWith(a, b) | Expr::EndsWith(a, b) => {
            want(
                a,
                Ty::Str,
                "substringof, startswith and endswith take two texts",
            )?;
            want(
                b,
                Ty::Str,
                "substringof, startswith and endswith take two texts",
            )?;
            Ty::Bool
        }
        Expr::Eq(a, b) | Expr::Ne(a, b) => {
            let (ta, tb) = (ty(a)?, ty(b)?);
            if ta == Ty::Other || tb == Ty::Other {
                return Err(bad(
                    "$filter compares text and true/false fields only (DownloadCount and \
                     the dates can be ordered by, not compared)",
                ));
            }
            if ta != tb {
                return Err(bad(
                    "$filter compares a text with a true/false value; compare like with like",
                ));
            }
            Ty::Bool
        }
        Expr::Not(a) => {
            want(a, Ty::Bool, "not takes a true/false expression")?;
            Ty::Bool
        }
        Expr::And(a, b) | Expr::Or(a, b) => {
            want(a, Ty::Bool, "and/or join true/false expressions")?;
            want(b, Ty::Bool, "and/or join true/false expressions")?;
            Ty::Bool
        }
    })
}

impl Expr {
    /// The lower-cased ids the filter restricts to, when it pins `Id` (`Id eq 'X'`,
    /// `tolower(Id) eq 'x'`, joined with `and`/`or`), so that only those are loaded.
    pub fn pinned_ids(&self) -> Option<Vec<String>> {
        fn is_id(e: &Expr) -> bool {
            match e {
                Expr::Field(Field::Id) => true,
                Expr::ToLower(a) | Expr::ToUpper(a) | Expr::Trim(a) => is_id(a),
                _ => false,
            }
        }
        match self {
            Expr::Eq(a, b) => match (&**a, &**b) {
                (x, Expr::Str(s)) | (Expr::Str(s), x) if is_id(x) => {
                    Some(vec![s.trim().to_ascii_lowercase()])
                }
                _ => None,
            },
            Expr::And(a, b) => match (a.pinned_ids(), b.pinned_ids()) {
                (Some(x), Some(y)) => Some(x.into_iter().filter(|i| y.contains(i)).collect()),
                (Some(x), None) | (None, Some(x)) => Some(x),
                (None, None) => None,
            },
            Expr::Or(a, b) => {
                let mut x = a.pinned_ids()?;
                for i in b.pinned_ids()? {
                    if !x.contains(&i) {
                        x.push(i);
                    }
                }
                Some(x)
            }
            _ => None,
        }
    }
}

enum Value<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
}

impl Value<'_> {
    fn truthy(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
    fn text(&self) -> &str {
        match self {
            Value::Str(s) => s,
            Value::Bool(_) => "",
        }
    }
}

impl Expr {
    /// Whether `row` passes the filter (type-checked by [`parse_filter`]).
    pub fn matches(&self, row: &Row<'_>) -> bool {
        self.eval(row).truthy()
    }

    fn eval<'r>(&'r self, row: &'r Row<'_>) -> Value<'r> {
        let text = |e: &'r Expr| -> Cow<'r, str> {
            match e.eval(row) {
                Value::Str(s) => s,
                Value::Bool(_) => Cow::Borrowed(""),
            }
        };
        match self {
            Expr::Field(f) => row.field(*f),
            Expr::Str(s) => Value::Str(Cow::Borrowed(s)),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::ToLower(a) => Value::Str(Cow::Owned(text(a).to_lowercase())),
            Expr::ToUpper(a) => Value::Str(Cow::Owned(text(a).to_uppercase())),
            Expr::Trim(a) => Value::Str(Cow::Owned(text(a).trim().to_owned())),
            Expr::SubstringOf(needle, hay) => Value::Bool(text(hay).contains(&*text(needle))),
            Expr::StartsWith(hay, p) => Value::Bool(text(hay).starts_with(&*text(p))),
            Expr::EndsWith(hay, p) => Value::Bool(text(hay).ends_with(&*text(p))),
            Expr::Eq(a, b) | Expr::Ne(a, b) => {
                let (x, y) = (a.eval(row), b.eval(row));
                let same = match (&x, &y) {
                    (Value::Bool(p), Value::Bool(q)) => p == q,
                    _ => x.text() == y.text(),
                };
                Value::Bool(same == matches!(self, Expr::Eq(..)))
            }
            Expr::Not(a) => Value::Bool(!a.eval(row).truthy()),
            Expr::And(a, b) => Value::Bool(a.eval(row).truthy() && b.eval(row).truthy()),
            Expr::Or(a, b) => Value::Bool(a.eval(row).truthy() || b.eval(row).truthy()),
        }
    }
}

// ------------------------------------------------------------------ $orderby

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    pub field: Field,
    pub descending: bool,
}

/// `$orderby`: comma-separated `Field [asc|desc]` over Id, Version, NormalizedVersion,
/// Title, DownloadCount, Published, Created, LastUpdated; `concat(Title,Id)` (Visual
/// Studio's "by name") orders as Title then Id.
pub fn parse_orderby(text: &str) -> Result<Vec<OrderKey>, QueryError> {
    let mut keys = Vec::new();
    let text = text.replace("concat(Title,Id)", "Title,Id");
    for part in text.split(',') {
        let mut words = part.split_whitespace();
        let Some(name) = words.next() else {
            return Err(bad(
                "$orderby has an empty key; write $orderby=Version desc,Id",
            ));
        };
        let field = Field::parse(name)
            .filter(|f| {
                matches!(
                    f,
                    Field::Id
                        | Field::Version
                        | Field::NormalizedVersion
                        | Field::Title
                        | Field::DownloadCount
                        | Field::Published
                        | Field::Created
                        | Field::LastUpdated
                )
            })
            .ok_or_else(|| {
                bad(format!(
                    "$orderby cannot order by '{name}'; it orders by Id, Version, \
                     NormalizedVersion, Title, DownloadCount, Published, Created or LastUpdated"
                ))
            })?;
        let descending = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(bad(format!(
                    "$orderby direction must be asc or desc, not '{other}'"
                )))
            }
        };
        if let Some(extra) = words.next() {
            return Err(bad(format!(
                "$orderby has '{extra}' after '{name}'; separate keys with commas"
            )));
        }
        if keys.len() >= 8 {
            return Err(bad("$orderby takes at most 8 keys"));
        }
        keys.push(OrderKey { field, descending });
    }
    Ok(keys)
}

// ------------------------------------------------------------------ rows and selection

/// One version as the feed shows it: the entry of the index with the facts computed over
/// its whole id.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The id as its newest publish spells it.
    pub id: &'a str,
    pub lower_id: &'a str,
    pub entry: &'a VersionEntry,
    /// The newest listed stable version of the id.
    pub is_latest: bool,
    /// The newest listed version of the id, pre-releases included.
    pub is_absolute_latest: bool,
}

impl<'a> Row<'a> {
    fn field(&self, f: Field) -> Value<'a> {
        let n = &self.entry.meta.nuspec;
        let s = |v: &'a str| Value::Str(Cow::Borrowed(v));
        let opt = |v: &'a Option<String>| Value::Str(Cow::Borrowed(v.as_deref().unwrap_or("")));
        match f {
            Field::Id => s(self.id),
            Field::Version | Field::NormalizedVersion => s(&self.entry.meta.version),
            Field::Title => opt(&n.title),
            Field::Description => s(&n.description),
            Field::Summary => opt(&n.summary),
            Field::Tags => Value::Str(Cow::Owned(n.tags.join(" "))),
            Field::Authors => s(&n.authors),
            Field::IsLatestVersion => Value::Bool(self.is_latest),
            Field::IsAbsoluteLatestVersion => Value::Bool(self.is_absolute_latest),
            Field::IsPrerelease => Value::Bool(self.entry.version.is_prerelease()),
            Field::Listed => Value::Bool(self.entry.listed),
            Field::DownloadCount | Field::Published | Field::Created | Field::LastUpdated => {
                Value::Bool(false)
            }
        }
    }

    fn compare(&self, other: &Row<'_>, f: Field) -> Ordering {
        let (a, b) = (self.entry, other.entry);
        match f {
            Field::Id => self.lower_id.cmp(other.lower_id),
            Field::Version | Field::NormalizedVersion => a.version.cmp(&b.version),
            Field::Title => {
                let t = |r: &Row<'_>| {
                    r.entry
                        .meta
                        .nuspec
                        .title
                        .as_deref()
                        .filter(|t| !t.is_empty())
                        .unwrap_or(r.id)
                        .to_lowercase()
                };
                t(self).cmp(&t(other))
            }
            // No download counts are kept: every count is 0.
            Field::DownloadCount => Ordering::Equal,
            Field::Published | Field::Created => a.package.created_at.cmp(&b.package.created_at),
            Field::LastUpdated => a.package.updated_at.cmp(&b.package.updated_at),
            _ => Ordering::Equal,
        }
    }
}

/// The rows of one id's versions, in ascending version order.
pub fn rows<'a>(id: &'a str, lower_id: &'a str, versions: &'a [VersionEntry]) -> Vec<Row<'a>> {
    let newest = |prerelease: bool| {
        versions
            .iter()
            .rposition(|v| v.listed && (prerelease || !v.version.is_prerelease()))
    };
    let (latest, absolute) = (newest(false), newest(true));
    versions
        .iter()
        .enumerate()
        .map(|(i, entry)| Row {
            id,
            lower_id,
            entry,
            is_latest: latest == Some(i),
            is_absolute_latest: absolute == Some(i),
        })
        .collect()
}

/// Sorts `rows` by `keys`, then by id and version ascending (a stable, total order, so
/// that pages do not overlap).
pub fn sort(rows: &mut [Row<'_>], keys: &[OrderKey]) {
    rows.sort_by(|a, b| {
        for k in keys {
            let o = a.compare(b, k.field);
            let o = if k.descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.compare(b, Field::Id)
            .then_with(|| a.compare(b, Field::Version))
    });
}

/// One page of a collection: where it starts and how many it shows, and the link to the
/// next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub skip: usize,
    pub take: usize,
    /// The next page's query options (for `<link rel="next">`), when the client asked for
    /// more than this page holds.
    pub next: Option<(u64, Option<u64>)>,
}

/// The page of `total` matching entries that `$skip`/`$top` select, at most
/// [`PAGE_SIZE`] long.
pub fn page(total: usize, options: &Options) -> Page {
    let total = total as u64;
    let skip = options.skip.min(total);
    let wanted = options.top.unwrap_or(u64::MAX);
    let take = wanted.min(PAGE_SIZE).min(total - skip);
    let rest_wanted = wanted.saturating_sub(take);
    let next = (skip + take < total && rest_wanted > 0 && take > 0)
        .then(|| (skip + take, options.top.map(|_| rest_wanted)));
    Page {
        skip: skip as usize,
        take: take as usize,
        next,
    }
}

/// The query string of the next page: the request's options with `$skip`/`$top` replaced.
pub fn next_query(options: &Options, skip: u64, top: Option<u64>) -> String {
    let mut out: Vec<String> = options
        .raw
        .iter()
        .filter(|(k, _)| {
            let k = k.replace("%24", "$");
            k != "$skip" && k != "$top"
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if let Some(top) = top {
        out.push(format!("$top={top}"));
    }
    out.push(format!("$skip={skip}"));
    out.join("&")
}

// ------------------------------------------------------------------ documents

/// Escapes text for XML content and attribute values, dropping characters XML 1.0 cannot
/// hold.
pub fn esc(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| matches!(c, '&' | '<' | '>' | '"' | '\'') || !xml_char(c))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if xml_char(c) => out.push(c),
            _ => {}
        }
    }
    Cow::Owned(out)
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// An OData key value: quotes doubled.
fn key_literal(s: &str) -> String {
    s.replace('\'', "''")
}

/// An Edm.DateTime in UTC, as WCF writes it.
pub fn edm_datetime(millis: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// What nuget.org writes as `Published` of an unlisted version (nuget 2.x reads a year of
/// 1900 as unlisted).
const UNLISTED_PUBLISHED: &str = "1900-01-01T00:00:00";

/// The absolute URLs the documents point at.
#[derive(Debug, Clone)]
pub struct Links {
    /// The feed's base, `{external}/api/v4/projects/{id}/packages/nuget/v2`.
    pub v2: String,
    /// The flat container's base, `{external}/api/v4/projects/{id}/packages/nuget/download`.
    pub download: String,
}

impl Links {
    /// The `.nupkg` of a row, in the v3 flat container.
    pub fn nupkg(&self, row: &Row<'_>) -> String {
        let v = row.entry.lower();
        format!(
            "{}/{}/{v}/{}",
            self.download,
            encode_segment(row.lower_id),
            encode_segment(&row.entry.nupkg_name(row.lower_id))
        )
    }
}

/// A path segment percent-encoded (ids and versions are ASCII letters, digits, `.`, `-`,
/// `_`, `+`: only `+` could need it).
fn encode_segment(s: &str) -> Cow<'_, str> {
    percent_encoding::utf8_percent_encode(s, SEGMENT).into()
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// The AtomPub service document: one workspace with the `Packages` collection.
pub fn service_document(links: &Links) -> String {
    let base = esc(&links.v2);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n\
         <service xml:base=\"{base}/\" xmlns=\"http://www.w3.org/2007/app\" \
         xmlns:atom=\"{ATOM}\">\n\
         \x20 <workspace>\n\
         \x20   <atom:title>Default</atom:title>\n\
         \x20   <collection href=\"Packages\">\n\
         \x20     <atom:title>Packages</atom:title>\n\
         \x20   </collection>\n\
         \x20 </workspace>\n\
         </service>\n"
    )
}

/// The properties of `V2FeedPackage`, in the order entries write them, with their EDM
/// types and whether they may be null.
const PROPERTIES: &[(&str, &str, bool)] = &[
    ("Id", "Edm.String", false),
    ("Version", "Edm.String", false),
    ("NormalizedVersion", "Edm.String", true),
    ("Title", "Edm.String", true),
    ("Authors", "Edm.String", true),
    ("Owners", "Edm.String", true),
    ("Description", "Edm.String", true),
    ("Summary", "Edm.String", true),
    ("ReleaseNotes", "Edm.String", true),
    ("Copyright", "Edm.String", true),
    ("Language", "Edm.String", true),
    ("Tags", "Edm.String", true),
    ("ProjectUrl", "Edm.String", true),
    ("IconUrl", "Edm.String", true),
    ("LicenseUrl", "Edm.String", true),
    ("RequireLicenseAcceptance", "Edm.Boolean", false),
    ("DevelopmentDependency", "Edm.Boolean", false),
    ("MinClientVersion", "Edm.String", true),
    ("Dependencies", "Edm.String", true),
    ("PackageSize", "Edm.Int64", false),
    ("PackageHash", "Edm.String", true),
    ("PackageHashAlgorithm", "Edm.String", true),
    ("IsLatestVersion", "Edm.Boolean", false),
    ("IsAbsoluteLatestVersion", "Edm.Boolean", false),
    ("IsPrerelease", "Edm.Boolean", false),
    ("Listed", "Edm.Boolean", false),
    ("Published", "Edm.DateTime", false),
    ("Created", "Edm.DateTime", false),
    ("LastUpdated", "Edm.DateTime", false),
    ("DownloadCount", "Edm.Int32", false),
    ("VersionDownloadCount", "Edm.Int32", false),
];

/// The EDMX of `$metadata`: the entity type, the `Packages` set, and the functions nuget
/// 2.x looks for before it calls them (it falls back to `$filter` queries on a feed whose
/// metadata lacks `Search` or `FindPackagesById`).
pub fn metadata_document() -> String {
    let mut props = String::new();
    for (name, ty, nullable) in PROPERTIES {
        let _ = writeln!(
            props,
            "        <Property Name=\"{name}\" Type=\"{ty}\" Nullable=\"{nullable}\" />"
        );
    }
    let param = |name: &str, ty: &str| {
        format!("          <Parameter Name=\"{name}\" Type=\"{ty}\" Mode=\"In\" />\n")
    };
    let function = |name: &str, params: &[(&str, &str)]| {
        let mut f = format!(
            "        <FunctionImport Name=\"{name}\" EntitySet=\"Packages\" \
             ReturnType=\"Collection({ENTITY_TYPE})\" m:HttpMethod=\"GET\">\n"
        );
        for (p, t) in params {
            f.push_str(&param(p, t));
        }
        f.push_str("        </FunctionImport>\n");
        f
    };
    let functions = [
        function(
            "Search",
            &[
                ("searchTerm", "Edm.String"),
                ("targetFramework", "Edm.String"),
                ("includePrerelease", "Edm.Boolean"),
            ],
        ),
        function("FindPackagesById", &[("id", "Edm.String")]),
        function(
            "GetUpdates",
            &[
                ("packageIds", "Edm.String"),
                ("versions", "Edm.String"),
                ("includePrerelease", "Edm.Boolean"),
                ("includeAllVersions", "Edm.Boolean"),
                ("targetFrameworks", "Edm.String"),
                ("versionConstraints", "Edm.String"),
            ],
        ),
    ]
    .concat();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n\
         <edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\">\n\
         \x20 <edmx:DataServices xmlns:m=\"{META}\" m:DataServiceVersion=\"2.0\">\n\
         \x20   <Schema Namespace=\"NuGetGallery\" xmlns:d=\"{DATA}\" xmlns:m=\"{META}\" \
         xmlns=\"http://schemas.microsoft.com/ado/2006/04/edm\">\n\
         \x20     <EntityType Name=\"V2FeedPackage\" m:HasStream=\"true\">\n\
         \x20       <Key>\n\
         \x20         <PropertyRef Name=\"Id\" />\n\
         \x20         <PropertyRef Name=\"Version\" />\n\
         \x20       </Key>\n\
         {props}\
         \x20     </EntityType>\n\
         \x20     <EntityContainer Name=\"FeedContext_x0060_1\" m:IsDefaultEntityContainer=\"true\">\n\
         \x20       <EntitySet Name=\"Packages\" EntityType=\"{ENTITY_TYPE}\" />\n\
         {functions}\
         \x20     </EntityContainer>\n\
         \x20   </Schema>\n\
         \x20 </edmx:DataServices>\n\
         </edmx:Edmx>\n"
    )
}

/// NuGet v2's dependency string: `id:range:framework` joined with `|`; a framework group
/// without dependencies is `::framework`.
pub fn dependencies(entry: &VersionEntry) -> String {
    let mut parts = Vec::new();
    for g in &entry.meta.nuspec.dependency_groups {
        let fw = g.target_framework.as_deref().unwrap_or("");
        if g.dependencies.is_empty() {
            if !fw.is_empty() {
                parts.push(format!("::{fw}"));
            }
            continue;
        }
        for d in &g.dependencies {
            parts.push(format!(
                "{}:{}:{fw}",
                d.id,
                d.range.as_deref().unwrap_or("")
            ));
        }
    }
    parts.join("|")
}

/// The base64 SHA-512 of the `.nupkg` (stored as hex).
fn package_hash(entry: &VersionEntry) -> String {
    hex::decode(&entry.nupkg.sha512)
        .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
        .unwrap_or_default()
}

/// An optional text, `None` when empty too.
fn opt(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Writes `<entry>` (without the XML declaration and namespaces when `nested`).
fn write_entry(out: &mut String, row: &Row<'_>, links: &Links, nested: bool) {
    let e = row.entry;
    let n = &e.meta.nuspec;
    let version = &e.meta.version;
    let key = format!(
        "Packages(Id='{}',Version='{}')",
        key_literal(row.id),
        key_literal(version)
    );
    let key = esc(&key);
    let updated = edm_datetime(e.package.updated_at);
    let created = edm_datetime(e.package.created_at);
    let indent = if nested { "  " } else { "" };
    if nested {
        out.push_str("  <entry>\n");
    } else {
        let _ = writeln!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n\
             <entry xml:base=\"{}/\" xmlns=\"{ATOM}\" xmlns:d=\"{DATA}\" xmlns:m=\"{META}\">",
            esc(&links.v2)
        );
    }
    let line = |out: &mut String, s: &str| {
        out.push_str(indent);
        out.push_str("  ");
        out.push_str(s);
        out.push('\n');
    };
    line(out, &format!("<id>{}/{key}</id>", esc(&links.v2)));
    line(
        out,
        &format!("<category term=\"{ENTITY_TYPE}\" scheme=\"{SCHEME}\" />"),
    );
    line(
        out,
        &format!("<link rel=\"edit\" title=\"V2FeedPackage\" href=\"{key}\" />"),
    );
    line(
        out,
        &format!("<title type=\"text\">{}</title>", esc(row.id)),
    );
    line(
        out,
        &format!(
            "<summary type=\"text\">{}</summary>",
            esc(n.summary.as_deref().unwrap_or(""))
        ),
    );
    line(out, &format!("<updated>{updated}</updated>"));
    line(
        out,
        &format!(
            "<author>\n{indent}    <name>{}</name>\n{indent}  </author>",
            esc(&n.authors)
        ),
    );
    line(
        out,
        &format!(
            "<content type=\"application/zip\" src=\"{}\" />",
            esc(&links.nupkg(row))
        ),
    );
    line(out, "<m:properties>");
    let text = |out: &mut String, name: &str, value: Option<&str>| {
        out.push_str(indent);
        match value {
            Some(v) => {
                let _ = writeln!(out, "    <d:{name}>{}</d:{name}>", esc(v));
            }
            None => {
                let _ = writeln!(out, "    <d:{name} m:null=\"true\" />");
            }
        }
    };
    let typed = |out: &mut String, name: &str, ty: &str, value: &str| {
        out.push_str(indent);
        let _ = writeln!(out, "    <d:{name} m:type=\"{ty}\">{value}</d:{name}>");
    };
    let boolean = |out: &mut String, name: &str, value: bool| {
        typed(
            out,
            name,
            "Edm.Boolean",
            if value { "true" } else { "false" },
        )
    };
    text(out, "Id", Some(row.id));
    text(out, "Version", Some(version));
    text(out, "NormalizedVersion", Some(version));
    text(out, "Title", opt(&n.title));
    text(out, "Authors", Some(&n.authors));
    text(
        out,
        "Owners",
        Some(n.owners.as_deref().unwrap_or(&n.authors)),
    );
    text(out, "Description", Some(&n.description));
    text(out, "Summary", opt(&n.summary));
    text(out, "ReleaseNotes", opt(&n.release_notes));
    text(out, "Copyright", opt(&n.copyright));
    text(out, "Language", opt(&n.language));
    text(out, "Tags", Some(&n.tags.join(" ")));
    text(out, "ProjectUrl", opt(&n.project_url));
    text(out, "IconUrl", opt(&n.icon_url));
    text(out, "LicenseUrl", opt(&n.license_url));
    boolean(
        out,
        "RequireLicenseAcceptance",
        n.require_license_acceptance,
    );
    boolean(out, "DevelopmentDependency", n.development_dependency);
    text(out, "MinClientVersion", opt(&n.min_client_version));
    text(out, "Dependencies", Some(&dependencies(e)));
    typed(out, "PackageSize", "Edm.Int64", &e.size().to_string());
    text(out, "PackageHash", Some(&package_hash(e)));
    text(out, "PackageHashAlgorithm", Some("SHA512"));
    boolean(out, "IsLatestVersion", row.is_latest);
    boolean(out, "IsAbsoluteLatestVersion", row.is_absolute_latest);
    boolean(out, "IsPrerelease", e.version.is_prerelease());
    boolean(out, "Listed", e.listed);
    let published = if e.listed {
        created.as_str()
    } else {
        UNLISTED_PUBLISHED
    };
    typed(out, "Published", "Edm.DateTime", published);
    typed(out, "Created", "Edm.DateTime", &created);
    typed(out, "LastUpdated", "Edm.DateTime", &updated);
    typed(out, "DownloadCount", "Edm.Int32", "0");
    typed(out, "VersionDownloadCount", "Edm.Int32", "0");
    line(out, "</m:properties>");
    out.push_str(indent);
    out.push_str("</entry>\n");
}

/// One entry (`Packages(Id='X',Version='Y')`).
pub fn entry_document(row: &Row<'_>, links: &Links) -> String {
    let mut out = String::with_capacity(4096);
    write_entry(&mut out, row, links, false);
    out
}

/// A feed of entries: `title` names the collection, `updated` is the newest change,
/// `count` the total for `$inlinecount`, `next` the next page's query string.
pub struct Feed<'a> {
    pub collection: Collection,
    pub rows: &'a [Row<'a>],
    pub updated: Millis,
    pub count: Option<usize>,
    pub next: Option<String>,
}

pub fn feed_document(feed: &Feed<'_>, links: &Links) -> String {
    let mut out = String::with_capacity(1024 + feed.rows.len() * 4096);
    let name = feed.collection.name();
    let base = esc(&links.v2);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n\
         <feed xml:base=\"{base}/\" xmlns=\"{ATOM}\" xmlns:d=\"{DATA}\" xmlns:m=\"{META}\">\n\
         \x20 <id>{base}/{name}</id>\n\
         \x20 <title type=\"text\">{name}</title>\n\
         \x20 <updated>{}</updated>\n\
         \x20 <link rel=\"self\" title=\"{name}\" href=\"{name}\" />\n",
        edm_datetime(feed.updated)
    );
    if let Some(count) = feed.count {
        let _ = writeln!(out, "  <m:count>{count}</m:count>");
    }
    for row in feed.rows {
        write_entry(&mut out, row, links, true);
    }
    if let Some(next) = &feed.next {
        let _ = writeln!(
            out,
            "  <link rel=\"next\" href=\"{}\" />",
            esc(&format!("{}/{name}?{next}", links.v2))
        );
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::index::StoredMetadata;
    use crate::nuspec::{Dependency, DependencyGroup, Nuspec};
    use crate::version::NugetVersion;
    use packyard_core::model::{
        Package, PackageFile, PackageFileId, PackageId, PackageStatus, ProjectId,
    };

    const T0: Millis = 1_796_000_000_000;

    fn nv(major: u64, minor: u64, patch: u64, release: &[&str]) -> NugetVersion {
        NugetVersion {
            major,
            minor,
            patch,
            revision: 0,
            release: release.iter().map(|s| s.to_string()).collect(),
            metadata: None,
        }
    }

    fn entry(id: &str, version: &str, parsed: NugetVersion, listed: bool, n: i64) -> VersionEntry {
        let nuspec = Nuspec {
            id: id.to_owned(),
            version: version.to_owned(),
            authors: "Ada & Bob".into(),
            description: "Parses <things> \"fast\"".into(),
            summary: Some("A parser.".into()),
            tags: vec!["json".into(), "parser".into()],
            project_url: Some("https://example.com/p?a=1&b=2".into()),
            dependency_groups: vec![
                DependencyGroup {
                    target_framework: Some(".NETFramework4.5".into()),
                    dependencies: vec![Dependency {
                        id: "Newtonsoft.Json".into(),
                        range: Some("[6.0.4, )".into()),
                        ..Default::default()
                    }],
                },
                DependencyGroup {
                    target_framework: Some(".NETStandard2.0".into()),
                    dependencies: vec![],
                },
            ],
            ..Default::default()
        };
        VersionEntry {
            package: Package {
                id: PackageId(n),
                project_id: ProjectId(7),
                format: "nuget".into(),
                name: id.to_owned(),
                normalized_name: id.to_ascii_lowercase(),
                version: version.to_ascii_lowercase(),
                status: if listed {
                    PackageStatus::Default
                } else {
                    PackageStatus::Hidden
                },
                metadata: serde_json::Value::Null,
                created_at: T0 + n * 60_000,
                updated_at: T0 + n * 60_000 + 1_000,
                last_downloaded_at: None,
            },
            version: parsed,
            meta: StoredMetadata {
                version: version.to_owned(),
                full_version: version.to_owned(),
                nuspec,
                nuspec_xml: String::new(),
            },
            listed,
            nupkg: PackageFile {
                id: PackageFileId(n),
                package_id: PackageId(n),
                file_name: format!(
                    "{}.{}.nupkg",
                    id.to_ascii_lowercase(),
                    version.to_ascii_lowercase()
                ),
                size: 4096 + n,
                sha256: String::new(),
                sha1: String::new(),
                md5: String::new(),
                sha512: "00ff".repeat(32),
                metadata: serde_json::Value::Null,
                build: None,
                created_at: T0 + n * 60_000,
            },
            others: Vec::new(),
        }
    }

    /// Four versions of `Acme.Json`: 1.0.0, 1.1.0 (unlisted), 2.0.0-beta, 1.2.0 (ascending
    /// order as the index keeps them: 1.0.0, 1.1.0, 1.2.0, 2.0.0-beta).
    fn versions() -> Vec<VersionEntry> {
        vec![
            entry("Acme.Json", "1.0.0", nv(1, 0, 0, &[]), true, 1),
            entry("Acme.Json", "1.1.0", nv(1, 1, 0, &[]), false, 2),
            entry("Acme.Json", "1.2.0", nv(1, 2, 0, &[]), true, 3),
            entry("Acme.Json", "2.0.0-beta", nv(2, 0, 0, &["beta"]), true, 4),
        ]
    }

    fn links() -> Links {
        Links {
            v2: "http://localhost:8080/api/v4/projects/acme%2Ftools/packages/nuget/v2".into(),
            download: "http://localhost:8080/api/v4/projects/acme%2Ftools/packages/nuget/download"
                .into(),
        }
    }

    fn parse(path: &str, query: &str) -> Request {
        parse_request(path, query).unwrap()
    }

    fn refused(path: &str, query: &str) -> String {
        match parse_request(path, query) {
            Err(QueryError::Bad(m)) => m,
            other => panic!("expected a 400 for {path}?{query}, got {other:?}"),
        }
    }

    fn filter(text: &str) -> Expr {
        parse_filter(text).unwrap()
    }

    fn selected(f: &str) -> Vec<String> {
        let v = versions();
        let e = filter(f);
        rows("Acme.Json", "acme.json", &v)
            .iter()
            .filter(|r| e.matches(r))
            .map(|r| r.entry.meta.version.clone())
            .collect()
    }

    #[test]
    fn paths_name_their_resources() {
        assert_eq!(parse("", "").resource, Resource::Service);
        assert_eq!(parse("/", "").resource, Resource::Service);
        assert_eq!(parse("/$metadata", "").resource, Resource::Metadata);
        assert_eq!(parse("/%24metadata", "").resource, Resource::Metadata);
        for p in ["/Packages", "/Packages()"] {
            assert_eq!(
                parse(p, "").resource,
                Resource::Collection(Collection::Packages)
            );
        }
        assert_eq!(
            parse("/Search()", "").resource,
            Resource::Collection(Collection::Search)
        );
        assert_eq!(
            parse("/FindPackagesById()", "id='X'").resource,
            Resource::Collection(Collection::FindPackagesById)
        );
        let counted = parse("/Search()/$count", "searchTerm=''");
        assert!(counted.count);
        assert_eq!(counted.resource, Resource::Collection(Collection::Search));
        assert!(parse("/Packages/%24count", "").count);
    }

    #[test]
    fn a_package_key_gives_id_and_version_in_either_order() {
        let want = Resource::Package {
            id: "Acme.Json".into(),
            version: "1.0.0".into(),
        };
        assert_eq!(
            parse("/Packages(Id='Acme.Json',Version='1.0.0')", "").resource,
            want
        );
        assert_eq!(
            parse("/Packages(Version=%271.0.0%27,Id=%27Acme.Json%27)", "").resource,
            want
        );
        assert_eq!(
            parse("/Packages(Id='O''Brien',Version='1.0')", "").resource,
            Resource::Package {
                id: "O'Brien".into(),
                version: "1.0".into()
            }
        );
        for bad in [
            "/Packages(Id='A')",
            "/Packages('A','1.0')",
            "/Packages(Id='A',Id='B')",
            "/Packages(Id='A',Version='1.0',Name='x')",
            "/Packages(Id='A,Version='1.0')",
        ] {
            assert!(
                refused(bad, "").contains("Packages(Id='ID',Version='VERSION')")
                    || refused(bad, "").contains("quote"),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_resources_and_count_of_one_entry_are_404() {
        assert!(matches!(
            parse_request("/Products()", ""),
            Err(QueryError::NotFound(m)) if m.contains("'Products()'")
        ));
        assert!(matches!(
            parse_request("/$metadata/$count", ""),
            Err(QueryError::NotFound(_))
        ));
    }

    #[test]
    fn what_nuget_2_sends_for_install_without_a_version_is_understood() {
        let r = parse(
            "/FindPackagesById()",
            "$filter=IsLatestVersion&$orderby=Version%20desc&$top=1&id='Acme.Json'",
        );
        let o = &r.options;
        assert_eq!(o.id.as_deref(), Some("Acme.Json"));
        assert_eq!(o.filter, Some(Expr::Field(Field::IsLatestVersion)));
        assert_eq!(
            o.orderby,
            vec![OrderKey {
                field: Field::Version,
                descending: true
            }]
        );
        assert_eq!(o.top, Some(1));
        assert_eq!(o.skip, 0);
    }

    #[test]
    fn what_nuget_list_sends_is_understood() {
        let r = parse(
            "/Search()",
            "$filter=IsLatestVersion&searchTerm=''&targetFramework=''&includePrerelease=false&$skip=0&$top=30",
        );
        let o = &r.options;
        assert_eq!(o.search_term, "");
        assert!(!o.include_prerelease);
        assert_eq!((o.skip, o.top), (0, Some(30)));
        let r = parse(
            "/Search()",
            "$filter=IsAbsoluteLatestVersion&searchTerm='json%20parser'&includePrerelease=true",
        );
        assert_eq!(r.options.search_term, "json parser");
        assert!(r.options.include_prerelease);
    }

    #[test]
    fn parameters_refuse_what_they_cannot_read() {
        assert!(refused("/Packages", "$top=-1").contains("$top must be a whole number"));
        assert!(refused("/Packages", "$skip=ten").contains("$skip"));
        assert!(refused("/Search()", "includePrerelease=maybe").contains("true or false"));
        assert!(refused("/Search()", "searchTerm='abc").contains("unclosed quote"));
        assert!(refused("/Packages", "$top=1&$top=2").contains("given twice"));
        assert!(refused("/FindPackagesById()", "").contains("id='ID'"));
        assert!(refused("/Packages", "$format=json").contains("Atom only"));
        assert!(refused("/Packages", "$inlinecount=some").contains("allpages"));
        let long = format!("searchTerm='{}'", "a".repeat(MAX_QUERY));
        assert!(refused("/Search()", &long).contains("at most 4096"));
        // $select and unknown options are ignored.
        assert_eq!(
            parse("/Packages", "$select=Id,Version&foo=bar")
                .options
                .filter,
            None
        );
    }

    #[test]
    fn semver_level_two_opts_in_to_semver2_versions() {
        assert!(!parse("/Packages", "").options.semver2);
        assert!(parse("/Packages", "semVerLevel=2.0.0").options.semver2);
        assert!(parse("/Packages", "semVerLevel='2.0.0'").options.semver2);
        assert!(!parse("/Packages", "semVerLevel=1.0.0").options.semver2);
    }

    #[test]
    fn filters_parse_the_forms_clients_send() {
        assert_eq!(
            filter("IsLatestVersion"),
            Expr::Field(Field::IsLatestVersion)
        );
        assert_eq!(
            filter("tolower(Id) eq 'acme.json'"),
            Expr::Eq(
                Box::new(Expr::ToLower(Box::new(Expr::Field(Field::Id)))),
                Box::new(Expr::Str("acme.json".into()))
            )
        );
        assert_eq!(
            filter("(tolower(Id) eq 'a') and IsLatestVersion"),
            Expr::And(
                Box::new(Expr::Eq(
                    Box::new(Expr::ToLower(Box::new(Expr::Field(Field::Id)))),
                    Box::new(Expr::Str("a".into()))
                )),
                Box::new(Expr::Field(Field::IsLatestVersion))
            )
        );
        // `and` binds tighter than `or`.
        assert_eq!(
            filter("Id eq 'a' or Id eq 'b' and IsPrerelease"),
            Expr::Or(
                Box::new(Expr::Eq(
                    Box::new(Expr::Field(Field::Id)),
                    Box::new(Expr::Str("a".into()))
                )),
                Box::new(Expr::And(
                    Box::new(Expr::Eq(
                        Box::new(Expr::Field(Field::Id)),
                        Box::new(Expr::Str("b".into()))
                    )),
                    Box::new(Expr::Field(Field::IsPrerelease))
                ))
            )
        );
        filter("not IsPrerelease and Listed eq true");
        filter(
            "substringof('json',tolower(Id)) or startswith(Title,'Acme') or endswith(Tags, 'x')",
        );
        filter("IsAbsoluteLatestVersion and (Version eq '1.0.0' or NormalizedVersion ne '2.0')");
    }

    #[test]
    fn filters_that_cannot_be_read_are_refused_with_a_reason() {
        let msg = |f: &str| match parse_filter(f) {
            Err(QueryError::Bad(m)) => m,
            other => panic!("{f}: {other:?}"),
        };
        assert!(msg("Id").contains("true/false expression"));
        assert!(msg("Id eq").contains("ends early"));
        assert!(msg("Id eq 'a' 'b'").contains("after a complete expression"));
        assert!(msg("Foo eq 'a'").contains("does not know 'Foo'"));
        assert!(msg("DownloadCount gt 5").contains("'gt' is not supported"));
        assert!(msg("DownloadCount eq 'x'").contains("compares text and true/false fields"));
        assert!(msg("Id eq true").contains("like with like"));
        assert!(msg("Id eq 'unterminated").contains("no closing quote"));
        assert!(msg("Id = 'a'").contains("unexpected character '='"));
        assert!(msg("(IsLatestVersion").contains("')'"));
        assert!(msg("tolower(Id").contains("closing tolower"));
        assert!(msg("substringof('a')").contains("second argument"));
        assert!(msg("not Id").contains("not takes"));
        let deep = format!("{}IsLatestVersion{}", "(".repeat(40), ")".repeat(40));
        assert!(msg(&deep).contains("nests deeper"));
        let wide = vec!["IsLatestVersion"; 200].join(" or ");
        assert!(msg(&wide).contains("more than 128 terms"));
        // Through the query string: a 400, not a 404.
        assert!(refused("/Packages()", "$filter=Id").contains("true/false"));
    }

    #[test]
    fn filters_select_versions() {
        // 1.1.0 is unlisted: never the latest.
        assert_eq!(selected("IsLatestVersion"), ["1.2.0"]);
        assert_eq!(selected("IsAbsoluteLatestVersion"), ["2.0.0-beta"]);
        assert_eq!(selected("tolower(Id) eq 'acme.json'").len(), 4);
        assert_eq!(selected("Id eq 'acme.json'").len(), 0);
        assert_eq!(
            selected("Id eq 'Acme.Json' and Version eq '1.1.0'"),
            ["1.1.0"]
        );
        assert_eq!(selected("not Listed"), ["1.1.0"]);
        assert_eq!(
            selected("IsPrerelease or Version eq '1.0.0'"),
            ["1.0.0", "2.0.0-beta"]
        );
        assert_eq!(
            selected("substringof('json', tolower(Id)) and IsLatestVersion"),
            ["1.2.0"]
        );
        assert_eq!(
            selected("toupper(Id) eq 'ACME.JSON' and not (IsPrerelease or not Listed)"),
            ["1.0.0", "1.2.0"]
        );
    }

    #[test]
    fn pinned_ids_let_a_packages_query_load_only_those_ids() {
        assert_eq!(
            filter("tolower(Id) eq 'a'").pinned_ids(),
            Some(vec!["a".into()])
        );
        assert_eq!(
            filter("(Id eq 'A' or Id eq 'B') and IsLatestVersion").pinned_ids(),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(filter("Id eq 'A' or IsLatestVersion").pinned_ids(), None);
        assert_eq!(filter("IsLatestVersion").pinned_ids(), None);
        assert_eq!(filter("Id ne 'a'").pinned_ids(), None);
    }

    #[test]
    fn orderby_parses_keys_and_refuses_others() {
        assert_eq!(
            parse_orderby("Version desc,Id").unwrap(),
            vec![
                OrderKey {
                    field: Field::Version,
                    descending: true
                },
                OrderKey {
                    field: Field::Id,
                    descending: false
                },
            ]
        );
        assert_eq!(
            parse_orderby("DownloadCount desc,concat(Title,Id)")
                .unwrap()
                .len(),
            3
        );
        assert!(matches!(parse_orderby("Published asc"), Ok(k) if k[0].field == Field::Published));
        for (bad, says) in [
            ("Tags", "cannot order by 'Tags'"),
            ("Version sideways", "asc or desc"),
            ("Version desc Id", "separate keys with commas"),
            ("Version,,Id", "empty key"),
        ] {
            match parse_orderby(bad) {
                Err(QueryError::Bad(m)) => assert!(m.contains(says), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn sorting_by_version_desc_puts_the_newest_first() {
        let v = versions();
        let mut r = rows("Acme.Json", "acme.json", &v);
        sort(&mut r, &parse_orderby("Version desc").unwrap());
        let order: Vec<&str> = r.iter().map(|r| r.entry.meta.version.as_str()).collect();
        assert_eq!(order, ["2.0.0-beta", "1.2.0", "1.1.0", "1.0.0"]);
        sort(&mut r, &parse_orderby("Published").unwrap());
        let order: Vec<&str> = r.iter().map(|r| r.entry.meta.version.as_str()).collect();
        assert_eq!(order, ["1.0.0", "1.1.0", "1.2.0", "2.0.0-beta"]);
    }

    fn opts(skip: u64, top: Option<u64>) -> Options {
        Options {
            skip,
            top,
            ..Default::default()
        }
    }

    #[test]
    fn pages_are_capped_at_100_with_a_next_link_for_the_rest() {
        // No $top: 100, then the next 100.
        assert_eq!(
            page(250, &opts(0, None)),
            Page {
                skip: 0,
                take: 100,
                next: Some((100, None))
            }
        );
        assert_eq!(
            page(250, &opts(200, None)),
            Page {
                skip: 200,
                take: 50,
                next: None
            }
        );
        // $top within the cap: exactly that, no next link even when more exist.
        assert_eq!(
            page(250, &opts(0, Some(30))),
            Page {
                skip: 0,
                take: 30,
                next: None
            }
        );
        // $top above the cap: 100 now, and a link for the remaining 50 asked for.
        assert_eq!(
            page(500, &opts(10, Some(150))),
            Page {
                skip: 10,
                take: 100,
                next: Some((110, Some(50)))
            }
        );
        assert_eq!(
            page(3, &opts(5, None)),
            Page {
                skip: 3,
                take: 0,
                next: None
            }
        );
        assert_eq!(
            page(3, &opts(0, Some(0))),
            Page {
                skip: 0,
                take: 0,
                next: None
            }
        );
    }

    #[test]
    fn the_next_link_keeps_the_other_options() {
        let r = parse(
            "/Search()",
            "searchTerm='a%20b'&%24filter=IsLatestVersion&$top=150&$skip=0",
        );
        assert_eq!(
            next_query(&r.options, 100, Some(50)),
            "searchTerm='a%20b'&%24filter=IsLatestVersion&$top=50&$skip=100"
        );
    }

    #[test]
    fn get_updates_pairs_ids_with_versions() {
        let r = parse(
            "/GetUpdates()",
            "packageIds='A|B'&versions='1.0|2.0'&includePrerelease=false&includeAllVersions=true&targetFrameworks='net45'&versionConstraints='|'",
        );
        assert_eq!(
            r.options.updates,
            vec![
                UpdateQuery {
                    id: "A".into(),
                    version: "1.0".into(),
                    constraint: None
                },
                UpdateQuery {
                    id: "B".into(),
                    version: "2.0".into(),
                    constraint: None
                },
            ]
        );
        assert!(r.options.include_all_versions);
        assert!(refused("/GetUpdates()", "packageIds='A|B'&versions='1.0'")
            .contains("2 package ids and 1 versions"));
        assert!(refused("/GetUpdates()", "packageIds='A'").contains("needs packageIds"));
        let many = vec!["A"; 101].join("|");
        let vs = vec!["1.0"; 101].join("|");
        assert!(refused(
            "/GetUpdates()",
            &format!("packageIds='{many}'&versions='{vs}'")
        )
        .contains("at most 100"));
    }

    #[test]
    fn dependencies_use_nuget_v2_encoding() {
        let v = versions();
        assert_eq!(
            dependencies(&v[0]),
            "Newtonsoft.Json:[6.0.4, ):.NETFramework4.5|::.NETStandard2.0"
        );
        let mut bare = entry("A", "1.0.0", nv(1, 0, 0, &[]), true, 9);
        bare.meta.nuspec.dependency_groups = vec![DependencyGroup {
            target_framework: None,
            dependencies: vec![Dependency {
                id: "B".into(),
                range: None,
                ..Default::default()
            }],
        }];
        assert_eq!(dependencies(&bare), "B::");
        bare.meta.nuspec.dependency_groups.clear();
        assert_eq!(dependencies(&bare), "");
    }

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(esc("bell\u{7}tab\t"), "belltab\t");
        assert!(matches!(esc("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_content_link_is_the_flat_container_nupkg_in_lower_case() {
        let v = versions();
        let r = rows("Acme.Json", "acme.json", &v);
        assert_eq!(
            links().nupkg(&r[3]),
            "http://localhost:8080/api/v4/projects/acme%2Ftools/packages/nuget/download/acme.json/2.0.0-beta/acme.json.2.0.0-beta.nupkg"
        );
    }

    #[test]
    fn v2_service_document() {
        insta::assert_snapshot!(service_document(&links()));
    }

    #[test]
    fn v2_metadata_document() {
        insta::assert_snapshot!(metadata_document());
    }

    #[test]
    fn v2_entry_of_an_unlisted_version() {
        let v = versions();
        let r = rows("Acme.Json", "acme.json", &v);
        insta::assert_snapshot!(entry_document(&r[1], &links()));
    }

    #[test]
    fn v2_feed_of_two_entries_with_a_next_link() {
        let v = versions();
        let r = rows("Acme.Json", "acme.json", &v);
        let shown = [r[2], r[3]];
        let o = parse("/Search()", "searchTerm='json'&$top=2").options;
        insta::assert_snapshot!(feed_document(
            &Feed {
                collection: Collection::Search,
                rows: &shown,
                updated: T0,
                count: Some(3),
                next: Some(next_query(&o, 2, None)),
            },
            &links()
        ));
    }

    #[test]
    fn documents_are_well_formed_xml() {
        let v = versions();
        let r = rows("Acme.Json", "acme.json", &v);
        let feed = feed_document(
            &Feed {
                collection: Collection::Packages,
                rows: &r,
                updated: T0,
                count: None,
                next: None,
            },
            &links(),
        );
        for doc in [
            service_document(&links()),
            metadata_document(),
            entry_document(&r[0], &links()),
            feed,
        ] {
            let mut reader = quick_xml::Reader::from_str(&doc);
            let mut depth = 0i32;
            loop {
                match reader.read_event().unwrap() {
                    quick_xml::events::Event::Start(_) => depth += 1,
                    quick_xml::events::Event::End(_) => depth -= 1,
                    quick_xml::events::Event::Eof => break,
                    _ => {}
                }
            }
            assert_eq!(depth, 0);
        }
    }
}
