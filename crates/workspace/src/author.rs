//! Choosing the author recorded in new snaps.

/// The places an author can come from, in the order they are tried.
#[derive(Clone, Debug, Default)]
pub struct AuthorSources {
    /// The `FERRY_AUTHOR` environment variable.
    pub env_author: Option<String>,
    /// The `user.name` config value.
    pub user_name: Option<String>,
    /// The `user.email` config value.
    pub user_email: Option<String>,
    /// The `USER` environment variable.
    pub env_user: Option<String>,
}

/// Returns the author: `FERRY_AUTHOR` if set, else `user.name` with
/// `<user.email>` appended when set, else `$USER`. Empty values count as
/// unset. Returns `None` when every source is unset.
pub fn choose_author(sources: AuthorSources) -> Option<String> {
    let present = |value: Option<String>| value.filter(|text| !text.trim().is_empty());
    if let Some(author) = present(sources.env_author) {
        return Some(author);
    }
    if let Some(name) = present(sources.user_name) {
        return Some(match present(sources.user_email) {
            Some(email) => format!("{name} <{email}>"),
            None => name,
        });
    }
    present(sources.env_user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(env: &str, name: &str, email: &str, user: &str) -> AuthorSources {
        let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        AuthorSources {
            env_author: some(env),
            user_name: some(name),
            user_email: some(email),
            env_user: some(user),
        }
    }

    #[test]
    fn env_author_wins() {
        let chosen = choose_author(sources("CI <ci@x>", "Ada", "ada@x", "ada"));
        assert_eq!(chosen.as_deref(), Some("CI <ci@x>"));
    }

    #[test]
    fn config_name_and_email() {
        let chosen = choose_author(sources("", "Ada", "ada@x", "ada"));
        assert_eq!(chosen.as_deref(), Some("Ada <ada@x>"));
        let chosen = choose_author(sources("", "Ada", "", "ada"));
        assert_eq!(chosen.as_deref(), Some("Ada"));
    }

    #[test]
    fn user_is_last_resort() {
        assert_eq!(
            choose_author(sources("", "", "ada@x", "ada")).as_deref(),
            Some("ada")
        );
        assert_eq!(choose_author(sources(" ", "", "", "")), None);
    }
}
