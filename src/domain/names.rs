//! Enums whose variants each have one stored name: the name the store, the
//! admin API, the outbox JSON and the config use. `stored_names!` writes
//! the variants with their names once, and derives from that one list the
//! serde names, `as_str`, `parse` and `ALL`, so the names cannot drift apart.

/// Declares an enum whose variants carry their stored names:
///
/// ```text
/// stored_names! {
///     /// Where an order came from.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
///     pub enum Channel {
///         Jgoods = "jgoods",
///         Rakuten = "rakuten",
///     }
/// }
/// ```
///
/// The caller writes the derives (serde's included); the macro adds each
/// variant's `#[serde(rename)]` and the impl with `ALL` (declaration order),
/// `as_str` and `parse`.
macro_rules! stored_names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in the order they are declared.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The variant of a stored name.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

pub(crate) use stored_names;
