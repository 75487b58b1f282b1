//! The access policy: one pure function answers every access question.
//!
//! Encodes GitLab's package registry permission table
//! (<https://docs.gitlab.com/user/packages/package_registry/#package-registry-visibility-permissions>,
//! spec §1.3, §1.4, §6.1). It returns *why* it refused, so each route class can answer the
//! way its clients expect (REST: 404 for the unseen; package routes: 401 + `WWW-Authenticate`
//! to anonymous callers so they retry with credentials).

use crate::model::{AccessLevel, RegistryAccess, UserId, Visibility};

/// Who is asking, as far as the policy cares. Built by the Registry from a verified credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    /// A user through a personal access token, or a password session (`scopes: None`,
    /// which means every scope).
    User {
        id: UserId,
        is_admin: bool,
        scopes: Option<Vec<String>>,
    },
    /// A project or group deploy token. `covers_project`: the token belongs to the project or
    /// to one of its ancestor groups (computed by the Registry per project).
    DeployToken {
        read: bool,
        write: bool,
        covers_project: bool,
    },
    /// A CI job token acting for `user`. `allowed_on_project`: the project is the job's
    /// project, or its job-token allowlist admits the job's project.
    JobToken {
        user: UserId,
        is_admin: bool,
        allowed_on_project: bool,
    },
}

/// What the actor wants to do to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See that the project exists (REST GET).
    ReadProject,
    /// Download packages, read indexes.
    ReadPackage,
    PublishPackage,
    DeletePackage,
    /// Change package settings of the project.
    AdminPackages,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::ReadProject,
        Action::ReadPackage,
        Action::PublishPackage,
        Action::DeletePackage,
        Action::AdminPackages,
    ];
}

/// The facts about one project that the decision needs, gathered by the Registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectAccessFacts {
    pub visibility: Visibility,
    pub registry_access: RegistryAccess,
    /// The instance setting `package_registry_allow_anyone_to_pull_option`.
    pub allow_anyone_to_pull_option: bool,
    /// The effective (inherited, unexpired) member level of the user behind the actor.
    pub member_level: Option<AccessLevel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The actor may not know the project exists. REST → 404; package routes → 401 when
    /// anonymous, else 404.
    NotVisible,
    /// Visible, but the role or token kind is not enough. → 403 (401 when anonymous on
    /// package routes).
    Forbidden,
    /// The token's scopes do not allow this. → 403 `insufficient_scope`.
    InsufficientScope,
    /// The project's package registry is disabled. → 403, even for Owners.
    RegistryDisabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny(Refusal),
}

impl Decision {
    /// `true` for [`Decision::Allow`].
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow)
    }
}

impl Actor {
    /// `true` only for a request that carried no credential at all. A job token outside its
    /// allowlist or a deploy token of another project is *not* anonymous: it authenticated,
    /// so route layers answer 404 rather than 401 + `WWW-Authenticate`.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Actor::Anonymous)
    }
}

impl Action {
    /// Every action but [`Action::ReadProject`]: these are refused when the project's registry
    /// is disabled.
    pub fn is_package_action(self) -> bool {
        !matches!(self, Action::ReadProject)
    }

    /// Actions a read-only credential (`read_api`, a read deploy token) may perform.
    fn is_read(self) -> bool {
        matches!(self, Action::ReadProject | Action::ReadPackage)
    }
}

/// The caller as the rules see it, once the credential has been resolved against the project.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    /// No credential: sees public projects only.
    Anonymous,
    /// A credential that grants nothing on this project (a job token outside its allowlist, a
    /// deploy token of another project or group): sees no project at all, and reads packages
    /// only where anyone may pull.
    Outsider,
    /// A user, through a token with `scopes` (`None`: a session, every scope) or a job token
    /// (no scope limits).
    Person {
        level: Option<AccessLevel>,
        is_admin: bool,
        scopes: Option<&'a [String]>,
    },
    /// A deploy token of this project or of an ancestor group: the token is the permission.
    Deploy { read: bool, write: bool },
}

impl<'a> Subject<'a> {
    fn resolve(actor: &'a Actor, facts: &ProjectAccessFacts) -> Self {
        match actor {
            Actor::Anonymous => Subject::Anonymous,
            Actor::User {
                is_admin, scopes, ..
            } => Subject::Person {
                level: facts.member_level,
                is_admin: *is_admin,
                scopes: scopes.as_deref(),
            },
            Actor::JobToken {
                is_admin,
                allowed_on_project: true,
                ..
            } => Subject::Person {
                level: facts.member_level,
                is_admin: *is_admin,
                scopes: None,
            },
            Actor::JobToken {
                allowed_on_project: false,
                ..
            } => Subject::Outsider,
            Actor::DeployToken {
                read,
                write,
                covers_project: true,
            } => Subject::Deploy {
                read: *read,
                write: *write,
            },
            Actor::DeployToken {
                covers_project: false,
                ..
            } => Subject::Outsider,
        }
    }

    /// May the caller know the project exists?
    fn sees(self, visibility: Visibility) -> bool {
        match self {
            Subject::Anonymous => visibility == Visibility::Public,
            Subject::Outsider => false,
            Subject::Deploy { .. } => true,
            Subject::Person {
                level, is_admin, ..
            } => visibility != Visibility::Private || level.is_some() || is_admin,
        }
    }

    /// Do the credential's scopes cover `action`? (Roles are checked separately.)
    fn has_scope_for(self, action: Action) -> bool {
        match self {
            Subject::Anonymous | Subject::Outsider | Subject::Person { scopes: None, .. } => true,
            Subject::Person {
                scopes: Some(scopes),
                ..
            } => {
                let has = |wanted: &str| scopes.iter().any(|s| s == wanted);
                has("api") || (action.is_read() && has("read_api"))
            }
            Subject::Deploy { read, write } => match action {
                Action::ReadProject | Action::ReadPackage => read || write,
                Action::PublishPackage => write,
                // No deploy-token scope grants these; that is a role refusal, not a scope one.
                Action::DeletePackage | Action::AdminPackages => true,
            },
        }
    }

    /// Does the caller's role (or token kind) allow `action` on a project it can see?
    fn role_allows(self, action: Action, facts: &ProjectAccessFacts) -> bool {
        match self {
            Subject::Outsider => false,
            Subject::Deploy { .. } => {
                matches!(
                    action,
                    Action::ReadProject | Action::ReadPackage | Action::PublishPackage
                )
            }
            Subject::Anonymous => match action {
                Action::ReadProject => true,
                Action::ReadPackage => pull_needs(facts) == Needs::Nothing,
                Action::PublishPackage | Action::DeletePackage | Action::AdminPackages => false,
            },
            Subject::Person { is_admin: true, .. } => true,
            Subject::Person {
                level,
                is_admin: false,
                ..
            } => {
                let at_least = |min: AccessLevel| level.is_some_and(|l| l >= min);
                match action {
                    Action::ReadProject => true,
                    Action::ReadPackage => match pull_needs(facts) {
                        Needs::Nothing | Needs::SignedIn => true,
                        Needs::Reporter => at_least(AccessLevel::Reporter),
                    },
                    Action::PublishPackage => at_least(AccessLevel::Developer),
                    Action::DeletePackage | Action::AdminPackages => {
                        at_least(AccessLevel::Maintainer)
                    }
                }
            }
        }
    }
}

/// What pulling needs when "allow anyone to pull" does not apply (spec §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Anyone who can see the project.
    Nothing,
    /// Any signed-in user; non-members count as Guest.
    SignedIn,
    /// A Reporter or higher member.
    Reporter,
}

fn pull_needs(facts: &ProjectAccessFacts) -> Needs {
    if facts.registry_access == RegistryAccess::Private {
        return Needs::Reporter;
    }
    match facts.visibility {
        Visibility::Public => Needs::Nothing,
        Visibility::Internal => Needs::SignedIn,
        Visibility::Private => Needs::Reporter,
    }
}

/// "Allow anyone to pull" (spec §6.1): the project's registry is `public` and the instance
/// allows the option.
fn anyone_may_pull(facts: &ProjectAccessFacts) -> bool {
    facts.registry_access == RegistryAccess::Public && facts.allow_anyone_to_pull_option
}

/// Decides whether `actor` may perform `action` on a project described by `facts`.
///
/// | | ReadProject | ReadPackage | PublishPackage | DeletePackage, AdminPackages |
/// |---|---|---|---|---|
/// | anonymous | public projects | public project, registry not `private` | never | never |
/// | user, allowed job token | public, internal; private if member | public: anyone; internal: Guest+ / any signed-in; private or registry `private`: Reporter+ | Developer+ | Maintainer+ |
/// | admin (user or job token) | every project | yes | yes | yes |
/// | covering deploy token | `read` or `write` | `read` or `write` | `write` | never |
/// | job token outside allowlist, deploy token of another project | never | only "anyone may pull" | never | never |
///
/// "Allow anyone to pull" (registry `public` and the instance option on) grants `ReadPackage`
/// to every caller, whatever the project's visibility; a token's scopes still apply to it.
/// A disabled registry refuses every package action, even to admins and Owners.
/// User tokens need `api` (or `read_api` for the two read actions); sessions and job tokens
/// have every scope.
///
/// When several refusals apply, the first of these wins: `NotVisible`, `RegistryDisabled`,
/// `InsufficientScope`, `Forbidden`.
pub fn decide(actor: &Actor, action: Action, facts: &ProjectAccessFacts) -> Decision {
    let subject = Subject::resolve(actor, facts);
    let open_pull = action == Action::ReadPackage && anyone_may_pull(facts);

    if !open_pull && !subject.sees(facts.visibility) {
        return Decision::Deny(Refusal::NotVisible);
    }
    if action.is_package_action() && facts.registry_access == RegistryAccess::Disabled {
        return Decision::Deny(Refusal::RegistryDisabled);
    }
    if !subject.has_scope_for(action) {
        return Decision::Deny(Refusal::InsufficientScope);
    }
    if open_pull || subject.role_allows(action, facts) {
        Decision::Allow
    } else {
        Decision::Deny(Refusal::Forbidden)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // ---------------------------------------------------------------------------------------
    // The exhaustive table. `oracle` is written from the rules in the module docs without
    // calling `decide` or its helpers: it reasons about the test's own description of the
    // caller (`Role`, `Cred`), collects *every* refusal that applies, then picks the strongest.
    // ---------------------------------------------------------------------------------------

    /// The caller's standing in the project (ignored by credentials that carry no user).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Role {
        NonMember,
        Member(AccessLevel),
        AdminNonMember,
    }

    const ROLES: [Role; 7] = [
        Role::NonMember,
        Role::Member(AccessLevel::Guest),
        Role::Member(AccessLevel::Reporter),
        Role::Member(AccessLevel::Developer),
        Role::Member(AccessLevel::Maintainer),
        Role::Member(AccessLevel::Owner),
        Role::AdminNonMember,
    ];

    /// How the caller authenticated.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Cred {
        Anonymous,
        Pat(&'static [&'static str]),
        Session,
        Deploy {
            read: bool,
            write: bool,
            covers: bool,
        },
        Job {
            allowed: bool,
        },
    }

    const CREDS: [Cred; 12] = [
        Cred::Anonymous,
        Cred::Pat(&["api"]),
        Cred::Pat(&["read_api"]),
        Cred::Pat(&["read_user"]),
        Cred::Session,
        Cred::Deploy {
            read: true,
            write: false,
            covers: true,
        },
        Cred::Deploy {
            read: false,
            write: true,
            covers: true,
        },
        Cred::Deploy {
            read: true,
            write: true,
            covers: true,
        },
        // A covering deploy token with neither package scope (e.g. only `read_repository`).
        Cred::Deploy {
            read: false,
            write: false,
            covers: true,
        },
        Cred::Deploy {
            read: true,
            write: true,
            covers: false,
        },
        Cred::Job { allowed: true },
        Cred::Job { allowed: false },
    ];

    fn actor_for(role: Role, cred: Cred) -> Actor {
        let is_admin = role == Role::AdminNonMember;
        match cred {
            Cred::Anonymous => Actor::Anonymous,
            Cred::Pat(scopes) => Actor::User {
                id: UserId(7),
                is_admin,
                scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
            },
            Cred::Session => Actor::User {
                id: UserId(7),
                is_admin,
                scopes: None,
            },
            Cred::Deploy {
                read,
                write,
                covers,
            } => Actor::DeployToken {
                read,
                write,
                covers_project: covers,
            },
            Cred::Job { allowed } => Actor::JobToken {
                user: UserId(7),
                is_admin,
                allowed_on_project: allowed,
            },
        }
    }

    fn level_of(role: Role) -> Option<AccessLevel> {
        match role {
            Role::Member(l) => Some(l),
            Role::NonMember | Role::AdminNonMember => None,
        }
    }

    /// What an action asks of a user's role.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Need {
        /// Anyone allowed to see the project (anonymous included).
        Visitor,
        /// Any signed-in user.
        AnyUser,
        AtLeast(AccessLevel),
    }

    fn oracle(
        vis: Visibility,
        role: Role,
        cred: Cred,
        action: Action,
        reg: RegistryAccess,
        anyone_option: bool,
    ) -> Decision {
        use AccessLevel::{Developer, Maintainer, Reporter};

        // Does this credential speak for a user here, and which one?
        let user_here = matches!(
            cred,
            Cred::Pat(_) | Cred::Session | Cred::Job { allowed: true }
        );
        let covering_deploy = matches!(cred, Cred::Deploy { covers: true, .. });
        let admin = user_here && role == Role::AdminNonMember;
        let level = if user_here { level_of(role) } else { None };

        // 1. Who sees the project.
        let can_see = match (cred, vis) {
            (Cred::Anonymous, Visibility::Public) => true,
            (Cred::Anonymous, _) => false,
            (Cred::Deploy { covers, .. }, _) => covers,
            (Cred::Job { allowed: false }, _) => false,
            (_, Visibility::Public | Visibility::Internal) => true,
            (_, Visibility::Private) => admin || level.is_some(),
        };

        // 2. "Allow anyone to pull".
        let open_pull =
            action == Action::ReadPackage && reg == RegistryAccess::Public && anyone_option;

        // 3. What the role must be, as a table.
        let need = match (action, reg, vis) {
            (Action::ReadProject, _, _) => Need::Visitor,
            (Action::ReadPackage, _, _) if open_pull => Need::Visitor,
            (Action::ReadPackage, RegistryAccess::Private, _) => Need::AtLeast(Reporter),
            (Action::ReadPackage, _, Visibility::Public) => Need::Visitor,
            (Action::ReadPackage, _, Visibility::Internal) => Need::AnyUser,
            (Action::ReadPackage, _, Visibility::Private) => Need::AtLeast(Reporter),
            (Action::PublishPackage, _, _) => Need::AtLeast(Developer),
            (Action::DeletePackage | Action::AdminPackages, _, _) => Need::AtLeast(Maintainer),
        };
        let role_ok = if open_pull {
            true
        } else if covering_deploy {
            matches!(
                action,
                Action::ReadProject | Action::ReadPackage | Action::PublishPackage
            )
        } else if user_here {
            admin
                || match need {
                    Need::Visitor | Need::AnyUser => true,
                    Need::AtLeast(min) => level.is_some_and(|l| l >= min),
                }
        } else {
            // Anonymous, or a credential that grants nothing here.
            cred == Cred::Anonymous && need == Need::Visitor
        };

        // 4. Scopes.
        let reading = action == Action::ReadProject || action == Action::ReadPackage;
        let scope_ok = match cred {
            Cred::Pat(scopes) => {
                let accepted: &[&str] = if reading {
                    &["api", "read_api"]
                } else {
                    &["api"]
                };
                scopes.iter().any(|s| accepted.contains(s))
            }
            Cred::Deploy {
                read,
                write,
                covers: true,
            } => match action {
                Action::ReadProject | Action::ReadPackage => read || write,
                Action::PublishPackage => write,
                Action::DeletePackage | Action::AdminPackages => true,
            },
            _ => true,
        };

        // 5. Every refusal that applies; the strongest wins.
        let mut refusals = Vec::new();
        if !(can_see || open_pull) {
            refusals.push(Refusal::NotVisible);
        }
        if action != Action::ReadProject && reg == RegistryAccess::Disabled {
            refusals.push(Refusal::RegistryDisabled);
        }
        if !scope_ok {
            refusals.push(Refusal::InsufficientScope);
        }
        if !role_ok {
            refusals.push(Refusal::Forbidden);
        }
        let priority = [
            Refusal::NotVisible,
            Refusal::RegistryDisabled,
            Refusal::InsufficientScope,
            Refusal::Forbidden,
        ];
        match priority.into_iter().find(|r| refusals.contains(r)) {
            Some(r) => Decision::Deny(r),
            None => Decision::Allow,
        }
    }

    /// Every combination, in a fixed order, with its actor and facts.
    fn all_cells() -> Vec<(String, Actor, Action, ProjectAccessFacts, Decision)> {
        let mut cells = Vec::new();
        for vis in Visibility::ALL {
            for role in ROLES {
                for cred in CREDS {
                    for action in Action::ALL {
                        for reg in RegistryAccess::ALL {
                            for anyone_option in [false, true] {
                                let facts = ProjectAccessFacts {
                                    visibility: vis,
                                    registry_access: reg,
                                    allow_anyone_to_pull_option: anyone_option,
                                    member_level: level_of(role),
                                };
                                let label = format!(
                                    "{vis:?} {role:?} {cred:?} {action:?} registry={reg:?} anyone_option={anyone_option}"
                                );
                                let want = oracle(vis, role, cred, action, reg, anyone_option);
                                cells.push((label, actor_for(role, cred), action, facts, want));
                            }
                        }
                    }
                }
            }
        }
        cells
    }

    const CELLS: usize = 3 * ROLES.len() * CREDS.len() * 5 * 4 * 2;

    #[test]
    fn policy_matches_oracle_on_every_combination() {
        let cells = all_cells();
        assert_eq!(cells.len(), 10_080);
        assert_eq!(cells.len(), CELLS);
        let mismatches: Vec<String> = cells
            .iter()
            .filter_map(|(label, actor, action, facts, want)| {
                let got = decide(actor, *action, facts);
                (got != *want).then(|| format!("{label}: decide={got:?} oracle={want:?}"))
            })
            .collect();
        assert!(
            mismatches.is_empty(),
            "{} of {} cells differ:\n{}",
            mismatches.len(),
            cells.len(),
            mismatches.join("\n")
        );
    }

    #[test]
    fn policy_table_exercises_every_outcome() {
        // Guards the oracle against degenerating (e.g. answering NotVisible everywhere).
        let outcomes: std::collections::HashSet<Decision> = all_cells()
            .into_iter()
            .map(|(_, _, _, _, want)| want)
            .collect();
        for d in [
            Decision::Allow,
            Decision::Deny(Refusal::NotVisible),
            Decision::Deny(Refusal::RegistryDisabled),
            Decision::Deny(Refusal::InsufficientScope),
            Decision::Deny(Refusal::Forbidden),
        ] {
            assert!(outcomes.contains(&d), "no cell expects {d:?}");
        }
    }

    #[test]
    fn policy_is_monotone_in_role_and_scope() {
        // A higher role, or a session instead of a token, never gets less.
        let rank = |role: Role| match role {
            Role::NonMember => 0,
            Role::Member(l) => l as i16,
            Role::AdminNonMember => 100,
        };
        for vis in Visibility::ALL {
            for action in Action::ALL {
                for reg in RegistryAccess::ALL {
                    for anyone_option in [false, true] {
                        for cred in [
                            Cred::Session,
                            Cred::Pat(&["api"]),
                            Cred::Job { allowed: true },
                        ] {
                            let mut prev: Option<(Role, bool)> = None;
                            for role in ROLES {
                                let facts = ProjectAccessFacts {
                                    visibility: vis,
                                    registry_access: reg,
                                    allow_anyone_to_pull_option: anyone_option,
                                    member_level: level_of(role),
                                };
                                let allowed =
                                    decide(&actor_for(role, cred), action, &facts).is_allowed();
                                if let Some((p, was)) = prev {
                                    assert!(rank(p) < rank(role));
                                    assert!(
                                        !was || allowed,
                                        "{vis:?} {action:?} {reg:?} {anyone_option} {cred:?}: {p:?} allowed, {role:?} not"
                                    );
                                }
                                prev = Some((role, allowed));
                                let session =
                                    decide(&actor_for(role, Cred::Session), action, &facts);
                                for pat in [&["api"][..], &["read_api"], &["read_user"]] {
                                    let with_pat =
                                        decide(&actor_for(role, Cred::Pat(pat)), action, &facts);
                                    assert!(!with_pat.is_allowed() || session.is_allowed());
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // Named spot tests for the documented rules.
    // ---------------------------------------------------------------------------------------

    const ALLOW: Decision = Decision::Allow;
    const NOT_VISIBLE: Decision = Decision::Deny(Refusal::NotVisible);
    const FORBIDDEN: Decision = Decision::Deny(Refusal::Forbidden);
    const SCOPE: Decision = Decision::Deny(Refusal::InsufficientScope);
    const DISABLED: Decision = Decision::Deny(Refusal::RegistryDisabled);

    fn project(visibility: Visibility, member_level: Option<AccessLevel>) -> ProjectAccessFacts {
        ProjectAccessFacts {
            visibility,
            registry_access: RegistryAccess::Enabled,
            allow_anyone_to_pull_option: true,
            member_level,
        }
    }

    fn session() -> Actor {
        Actor::User {
            id: UserId(1),
            is_admin: false,
            scopes: None,
        }
    }

    fn pat(scopes: &[&str]) -> Actor {
        Actor::User {
            id: UserId(1),
            is_admin: false,
            scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn deploy(read: bool, write: bool) -> Actor {
        Actor::DeployToken {
            read,
            write,
            covers_project: true,
        }
    }

    #[test]
    fn anonymous_pulls_from_public_project() {
        let facts = project(Visibility::Public, None);
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadProject, &facts),
            ALLOW
        );
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadPackage, &facts),
            ALLOW
        );
        assert_eq!(
            decide(&Actor::Anonymous, Action::PublishPackage, &facts),
            FORBIDDEN
        );
    }

    #[test]
    fn anonymous_cannot_see_internal_or_private_project() {
        for vis in [Visibility::Internal, Visibility::Private] {
            for action in Action::ALL {
                assert_eq!(
                    decide(&Actor::Anonymous, action, &project(vis, None)),
                    NOT_VISIBLE
                );
            }
        }
    }

    #[test]
    fn guest_cannot_pull_from_private_project() {
        let facts = project(Visibility::Private, Some(AccessLevel::Guest));
        assert_eq!(decide(&session(), Action::ReadProject, &facts), ALLOW);
        assert_eq!(decide(&session(), Action::ReadPackage, &facts), FORBIDDEN);
    }

    #[test]
    fn non_member_cannot_see_private_project() {
        let facts = project(Visibility::Private, None);
        for action in Action::ALL {
            assert_eq!(decide(&session(), action, &facts), NOT_VISIBLE);
        }
    }

    #[test]
    fn reporter_pulls_from_private_project() {
        let facts = project(Visibility::Private, Some(AccessLevel::Reporter));
        assert_eq!(decide(&session(), Action::ReadPackage, &facts), ALLOW);
        assert_eq!(
            decide(&session(), Action::PublishPackage, &facts),
            FORBIDDEN
        );
    }

    #[test]
    fn developer_publishes_maintainer_deletes() {
        let dev = project(Visibility::Private, Some(AccessLevel::Developer));
        assert_eq!(decide(&session(), Action::PublishPackage, &dev), ALLOW);
        assert_eq!(decide(&session(), Action::DeletePackage, &dev), FORBIDDEN);
        assert_eq!(decide(&session(), Action::AdminPackages, &dev), FORBIDDEN);
        let maintainer = project(Visibility::Private, Some(AccessLevel::Maintainer));
        assert_eq!(
            decide(&session(), Action::DeletePackage, &maintainer),
            ALLOW
        );
        assert_eq!(
            decide(&session(), Action::AdminPackages, &maintainer),
            ALLOW
        );
    }

    #[test]
    fn registry_disabled_refuses_even_owner() {
        let facts = ProjectAccessFacts {
            registry_access: RegistryAccess::Disabled,
            ..project(Visibility::Public, Some(AccessLevel::Owner))
        };
        let admin = Actor::User {
            id: UserId(1),
            is_admin: true,
            scopes: None,
        };
        for action in [
            Action::ReadPackage,
            Action::PublishPackage,
            Action::DeletePackage,
            Action::AdminPackages,
        ] {
            assert_eq!(decide(&session(), action, &facts), DISABLED);
            assert_eq!(decide(&admin, action, &facts), DISABLED);
        }
        assert_eq!(decide(&session(), Action::ReadProject, &facts), ALLOW);
    }

    #[test]
    fn invisible_project_is_not_visible_before_registry_disabled() {
        let facts = ProjectAccessFacts {
            registry_access: RegistryAccess::Disabled,
            ..project(Visibility::Private, None)
        };
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadPackage, &facts),
            NOT_VISIBLE
        );
        assert_eq!(
            decide(&session(), Action::PublishPackage, &facts),
            NOT_VISIBLE
        );
        let foreign_deploy = Actor::DeployToken {
            read: true,
            write: true,
            covers_project: false,
        };
        assert_eq!(
            decide(&foreign_deploy, Action::ReadPackage, &facts),
            NOT_VISIBLE
        );
    }

    #[test]
    fn allow_anyone_to_pull_lets_anonymous_read_private_project() {
        let facts = ProjectAccessFacts {
            registry_access: RegistryAccess::Public,
            ..project(Visibility::Private, None)
        };
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadPackage, &facts),
            ALLOW
        );
        // Only pulling: the project itself stays hidden, and nothing else is granted.
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadProject, &facts),
            NOT_VISIBLE
        );
        assert_eq!(
            decide(&Actor::Anonymous, Action::PublishPackage, &facts),
            NOT_VISIBLE
        );
        // Anyone means anyone: also outsiders' tokens and a Guest.
        let outsider_job = Actor::JobToken {
            user: UserId(2),
            is_admin: false,
            allowed_on_project: false,
        };
        let foreign_deploy = Actor::DeployToken {
            read: false,
            write: false,
            covers_project: false,
        };
        assert_eq!(decide(&outsider_job, Action::ReadPackage, &facts), ALLOW);
        assert_eq!(decide(&foreign_deploy, Action::ReadPackage, &facts), ALLOW);
        let guest = ProjectAccessFacts {
            member_level: Some(AccessLevel::Guest),
            ..facts
        };
        assert_eq!(decide(&session(), Action::ReadPackage, &guest), ALLOW);
    }

    #[test]
    fn allow_anyone_option_off_hides_anonymous_pull() {
        let facts = ProjectAccessFacts {
            registry_access: RegistryAccess::Public,
            allow_anyone_to_pull_option: false,
            ..project(Visibility::Private, None)
        };
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadPackage, &facts),
            NOT_VISIBLE
        );
        // With the option off, a `public` registry behaves like `enabled`.
        let public = ProjectAccessFacts {
            visibility: Visibility::Public,
            ..facts.clone()
        };
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadPackage, &public),
            ALLOW
        );
        let guest = ProjectAccessFacts {
            member_level: Some(AccessLevel::Guest),
            ..facts
        };
        assert_eq!(decide(&session(), Action::ReadPackage, &guest), FORBIDDEN);
    }

    #[test]
    fn private_registry_needs_reporter_even_on_public_project() {
        let facts = ProjectAccessFacts {
            registry_access: RegistryAccess::Private,
            ..project(Visibility::Public, Some(AccessLevel::Guest))
        };
        assert_eq!(decide(&session(), Action::ReadPackage, &facts), FORBIDDEN);
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadPackage, &facts),
            FORBIDDEN
        );
        let reporter = ProjectAccessFacts {
            member_level: Some(AccessLevel::Reporter),
            ..facts
        };
        assert_eq!(decide(&session(), Action::ReadPackage, &reporter), ALLOW);
    }

    #[test]
    fn read_api_token_cannot_publish() {
        let facts = project(Visibility::Private, Some(AccessLevel::Owner));
        let token = pat(&["read_api"]);
        assert_eq!(decide(&token, Action::ReadPackage, &facts), ALLOW);
        assert_eq!(decide(&token, Action::PublishPackage, &facts), SCOPE);
        assert_eq!(decide(&token, Action::DeletePackage, &facts), SCOPE);
        assert_eq!(
            decide(&pat(&["api"]), Action::PublishPackage, &facts),
            ALLOW
        );
    }

    #[test]
    fn read_user_token_has_insufficient_scope_everywhere() {
        let token = pat(&["read_user"]);
        let facts = project(Visibility::Public, Some(AccessLevel::Owner));
        for action in Action::ALL {
            assert_eq!(decide(&token, action, &facts), SCOPE);
        }
        // ...but visibility is judged first.
        assert_eq!(
            decide(
                &token,
                Action::ReadProject,
                &project(Visibility::Private, None)
            ),
            NOT_VISIBLE
        );
    }

    #[test]
    fn deploy_token_read_scope_cannot_publish() {
        let facts = project(Visibility::Private, None);
        assert_eq!(
            decide(&deploy(true, false), Action::ReadPackage, &facts),
            ALLOW
        );
        assert_eq!(
            decide(&deploy(true, false), Action::PublishPackage, &facts),
            SCOPE
        );
        assert_eq!(
            decide(&deploy(false, true), Action::ReadPackage, &facts),
            ALLOW
        );
        assert_eq!(
            decide(&deploy(false, true), Action::PublishPackage, &facts),
            ALLOW
        );
    }

    #[test]
    fn deploy_token_never_deletes() {
        let facts = project(Visibility::Public, Some(AccessLevel::Owner));
        for action in [Action::DeletePackage, Action::AdminPackages] {
            assert_eq!(decide(&deploy(true, true), action, &facts), FORBIDDEN);
        }
    }

    #[test]
    fn deploy_token_of_another_project_sees_nothing_even_public() {
        let token = Actor::DeployToken {
            read: true,
            write: true,
            covers_project: false,
        };
        for action in Action::ALL {
            assert_eq!(
                decide(&token, action, &project(Visibility::Public, None)),
                NOT_VISIBLE
            );
        }
    }

    #[test]
    fn job_token_outside_allowlist_sees_nothing() {
        let token = Actor::JobToken {
            user: UserId(3),
            is_admin: true,
            allowed_on_project: false,
        };
        let facts = project(Visibility::Public, Some(AccessLevel::Owner));
        for action in Action::ALL {
            assert_eq!(decide(&token, action, &facts), NOT_VISIBLE);
        }
    }

    #[test]
    fn job_token_acts_as_its_user() {
        let token = Actor::JobToken {
            user: UserId(3),
            is_admin: false,
            allowed_on_project: true,
        };
        let dev = project(Visibility::Private, Some(AccessLevel::Developer));
        assert_eq!(decide(&token, Action::PublishPackage, &dev), ALLOW);
        assert_eq!(decide(&token, Action::DeletePackage, &dev), FORBIDDEN);
        assert_eq!(
            decide(
                &token,
                Action::ReadPackage,
                &project(Visibility::Private, None)
            ),
            NOT_VISIBLE
        );
    }

    #[test]
    fn internal_project_readable_by_any_signed_in_user() {
        let facts = project(Visibility::Internal, None);
        assert_eq!(decide(&session(), Action::ReadProject, &facts), ALLOW);
        assert_eq!(decide(&session(), Action::ReadPackage, &facts), ALLOW);
        assert_eq!(
            decide(&session(), Action::PublishPackage, &facts),
            FORBIDDEN
        );
        let job = Actor::JobToken {
            user: UserId(3),
            is_admin: false,
            allowed_on_project: true,
        };
        assert_eq!(decide(&job, Action::ReadPackage, &facts), ALLOW);
        assert_eq!(
            decide(&Actor::Anonymous, Action::ReadPackage, &facts),
            NOT_VISIBLE
        );
    }

    #[test]
    fn admin_without_membership_manages_private_project() {
        let admin = Actor::User {
            id: UserId(1),
            is_admin: true,
            scopes: None,
        };
        let facts = project(Visibility::Private, None);
        for action in Action::ALL {
            assert_eq!(decide(&admin, action, &facts), ALLOW);
        }
    }

    #[test]
    fn only_a_credential_less_request_is_anonymous() {
        assert!(Actor::Anonymous.is_anonymous());
        assert!(!session().is_anonymous());
        assert!(!Actor::DeployToken {
            read: false,
            write: false,
            covers_project: false
        }
        .is_anonymous());
        assert!(!Actor::JobToken {
            user: UserId(3),
            is_admin: false,
            allowed_on_project: false
        }
        .is_anonymous());
    }
}
