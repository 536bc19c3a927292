//! Enums declared as tables: [`code_table!`] turns a table of rows into an enum with one variant a
//! row and the lookups both ways. The protocol's code tables (SyncML status and alert codes, OMA
//! Download statuses, FUMO results) and the names of fault injection are declared with it.
//!
//! The module sits below every other (it imports nothing), so that both the formats and the
//! fault names can use it; it is private, and the macro is for this crate only.

/// Declares an enum from a table, one variant a row, with the lookups both ways.
///
/// Every table gets the derives `Debug, Clone, Copy, PartialEq, Eq, Hash`; attributes written
/// before `enum` (its doc, more derives) are kept, and so is each row's doc, which says where the
/// value comes from. `ALL` lists the rows in the table's order. A table is of one of two kinds,
/// told by its rows:
///
/// * **Numbered** (`Name = 404, "Not found";`): a protocol's code table. Each row has a number and
///   the text the specification gives it. The enum gets `code()`, `text()` and `Display` (`404 Not
///   found`), and `from_code()`: `Option<Self>` for a table that is closed, or `Self` for one that
///   ends with `else { Other(u16) = "Unknown status"; }`, whose last variant keeps a number the table
///   does not list (so a code read from a peer is never rewritten; `text()` gives it the fallback
///   text, and `ALL` leaves it out).
/// * **Named** (`Name = "tree.write";`): names a scenario writes. The enum gets `as_str()`,
///   `parse()` and `Display` (the name). A table may end with `with a count { Name(u64) =
///   "network.lost"; }`: such a value is written `name@N` (`name` alone is `name@0`); it is in
///   `ALL` with the count 0, and `as_str()` gives the name without the count.
///
/// Both kinds are one macro because they are the same thing (variants with a fixed text each, and
/// a trailing variant that carries a number); the numbered kind adds the number as the key. Their
/// declaration is shared (the `@enum` arm), as are the numbered lookups of open and closed tables
/// (`@numbered`).
///
/// ```text
/// crate::codes::code_table! {
///     /// A status code.
///     #[derive(PartialOrd, Ord)]
///     pub enum Status {
///         /// The command succeeded.
///         Ok = 200, "OK";
///         NotFound = 404, "Not found";
///     } else {
///         /// A code outside the table, kept verbatim.
///         Other(u16) = "Unknown status";
///     }
/// }
/// ```
macro_rules! code_table {
    // The enum itself, for both kinds.
    (@enum [$(#[$meta:meta])*] $vis:vis $name:ident {
        $( $(#[$doc:meta])* $variant:ident $(($payload:ty))?, )*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$doc])* $variant $(($payload))?, )*
        }
    };

    // What numbered tables share, open ($other given) or closed.
    (@numbered $name:ident {
        $( $variant:ident = $code:literal, $text:literal; )*
    } $( else $other:ident = $unknown:literal )?) => {
        impl $name {
            /// Every row of the table, in the table's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The numeric code.
            pub fn code(self) -> u16 {
                match self {
                    $( $name::$variant => $code, )*
                    $( $name::$other(code) => code, )?
                }
            }

            /// The text the specification gives the code.
            pub fn text(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                    $( $name::$other(_) => $unknown, )?
                }
            }
        }

        /// The code and its text, `404 Not found`.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{} {}", self.code(), self.text())
            }
        }
    };

    // A numbered table with a variant for the codes it does not list.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$doc:meta])* $variant:ident = $code:literal, $text:literal; )*
        } else {
            $(#[$other_doc:meta])* $other:ident(u16) = $unknown:literal;
        }
    ) => {
        $crate::codes::code_table!(@enum [$(#[$meta])*] $vis $name {
            $( $(#[$doc])* $variant, )*
            $(#[$other_doc])* $other(u16),
        });
        $crate::codes::code_table!(@numbered $name {
            $( $variant = $code, $text; )*
        } else $other = $unknown);

        impl $name {
            #[doc = concat!(
                "The value of a number; one the table does not list is kept in [`",
                stringify!($name), "::", stringify!($other), "`]."
            )]
            pub fn from_code(code: u16) -> $name {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::$other(other),
                }
            }
        }
    };

    // A closed numbered table.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$doc:meta])* $variant:ident = $code:literal, $text:literal; )*
        }
    ) => {
        $crate::codes::code_table!(@enum [$(#[$meta])*] $vis $name {
            $( $(#[$doc])* $variant, )*
        });
        $crate::codes::code_table!(@numbered $name { $( $variant = $code, $text; )* });

        impl $name {
            /// The value of a number, if the table lists it.
            pub fn from_code(code: u16) -> Option<$name> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }
        }
    };

    // A named table, perhaps with counted values.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$doc:meta])* $variant:ident = $text:literal; )*
        } $( with a count {
            $( $(#[$counted_doc:meta])* $counted:ident(u64) = $counted_text:literal; )*
        } )?
    ) => {
        $crate::codes::code_table!(@enum [$(#[$meta])*] $vis $name {
            $( $(#[$doc])* $variant, )*
            $( $( $(#[$counted_doc])* $counted(u64), )* )?
        });

        impl $name {
            /// Every value, in the table's order (a counted value with the count 0).
            pub const ALL: &'static [$name] = &[
                $( $name::$variant, )*
                $( $( $name::$counted(0), )* )?
            ];

            /// The name scenarios use (for a counted value, the name before its `@N`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                    $( $( $name::$counted(_) => $counted_text, )* )?
                }
            }

            /// Look a name up; a counted value is written `name@N` (`name` alone is `name@0`).
            pub fn parse(s: &str) -> Option<$name> {
                if let Some(v) = $name::ALL.iter().copied().find(|v| v.as_str() == s) {
                    return Some(v);
                }
                let (_base, _count) = s.split_once('@')?;
                let _count: u64 = _count.parse().ok()?;
                $( $( if _base == $counted_text { return Some($name::$counted(_count)); } )* )?
                None
            }
        }

        /// The name, and a counted value's `@N`.
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match *self {
                    $( $( $name::$counted(n) => write!(f, "{}@{n}", $counted_text), )* )?
                    #[allow(unreachable_patterns)]
                    other => f.write_str(other.as_str()),
                }
            }
        }
    };
}

pub(crate) use code_table;

#[cfg(test)]
mod tests {
    code_table! {
        /// A closed numbered table.
        enum Closed {
            /// The first row.
            One = 1, "One";
            Twelve = 12, "Twelve";
            Seven = 7, "Seven";
        }
    }

    code_table! {
        /// An open numbered table.
        #[derive(PartialOrd, Ord)]
        enum Open {
            Low = 100, "Low";
            High = 200, "High";
        } else {
            /// Anything else.
            Other(u16) = "Unknown";
        }
    }

    code_table! {
        /// A named table with counted values.
        enum Named {
            Plain = "a.plain";
            Other = "a.other";
        } with a count {
            AtByte(u64) = "at.byte";
            Times(u64) = "times";
        }
    }

    code_table! {
        /// A named table without.
        enum Uncounted {
            Only = "only";
        }
    }

    #[test]
    fn a_closed_table_maps_codes_variants_and_texts_both_ways() {
        assert_eq!(Closed::ALL, [Closed::One, Closed::Twelve, Closed::Seven]);
        for &v in Closed::ALL {
            assert_eq!(Closed::from_code(v.code()), Some(v));
            assert_eq!(v.to_string(), format!("{} {}", v.code(), v.text()));
        }
        assert_eq!(Closed::Twelve.code(), 12);
        assert_eq!(Closed::Seven.text(), "Seven");
        assert_eq!(Closed::One.to_string(), "1 One");
        for unknown in [0, 2, 13, u16::MAX] {
            assert_eq!(Closed::from_code(unknown), None);
        }
    }

    #[test]
    fn an_open_table_keeps_unknown_codes_out_of_all() {
        assert_eq!(Open::ALL, [Open::Low, Open::High]);
        for &v in Open::ALL {
            assert_eq!(Open::from_code(v.code()), v);
        }
        assert_eq!(Open::from_code(150), Open::Other(150));
        assert_eq!(Open::Other(150).code(), 150);
        assert_eq!(Open::Other(150).text(), "Unknown");
        assert_eq!(Open::Other(150).to_string(), "150 Unknown");
        assert_eq!(Open::High.to_string(), "200 High");
        // Extra derives are kept: the order is the table's, then the unknown codes.
        assert!(Open::Low < Open::High && Open::High < Open::Other(0));
    }

    #[test]
    fn a_named_table_parses_its_names_and_counts() {
        assert_eq!(
            Named::ALL,
            [
                Named::Plain,
                Named::Other,
                Named::AtByte(0),
                Named::Times(0)
            ]
        );
        for &v in Named::ALL {
            assert_eq!(Named::parse(v.as_str()), Some(v));
            assert_eq!(Named::parse(&v.to_string()), Some(v));
        }
        assert_eq!(Named::parse("at.byte@4096"), Some(Named::AtByte(4096)));
        assert_eq!(Named::parse("times@3"), Some(Named::Times(3)));
        assert_eq!(Named::AtByte(4096).as_str(), "at.byte");
        assert_eq!(Named::AtByte(4096).to_string(), "at.byte@4096");
        assert_eq!(Named::Plain.to_string(), "a.plain");
        for bad in [
            "",
            "nope",
            "a.plain@1",
            "at.byte@",
            "at.byte@x",
            "at.byte@-1",
        ] {
            assert_eq!(Named::parse(bad), None, "{bad}");
        }
        assert_eq!(Uncounted::ALL, [Uncounted::Only]);
        assert_eq!(Uncounted::parse("only"), Some(Uncounted::Only));
        assert_eq!(Uncounted::parse("only@1"), None);
        assert_eq!(Uncounted::Only.to_string(), "only");
    }
}
