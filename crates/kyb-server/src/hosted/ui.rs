//! What every hosted page is drawn with: the platform's brand and the customer's language.

use fluent_bundle::{FluentArgs, FluentValue};
use kyb_domain::branding::Branding;

use super::brand::Brand;
use crate::i18n::{Lang, LangPrefs, Tr};

#[derive(Debug, Clone, Default)]
pub struct Ui {
    pub brand: Brand,
    pub tr: Tr,
}

impl Ui {
    /// A platform's page, in the customer's language (else the platform's default).
    pub fn new(prefs: &LangPrefs, brand: Brand, branding: &Branding) -> Self {
        let platform_default = branding.language.as_deref().and_then(Lang::parse);
        Self {
            brand,
            tr: Tr::new(prefs.pick(platform_default)),
        }
    }

    /// A page that belongs to no known platform.
    pub fn anonymous(prefs: &LangPrefs) -> Self {
        let tr = Tr::new(prefs.pick(None));
        Self {
            brand: Brand::named(&tr.t("service-name")),
            tr,
        }
    }

    /// A message with arguments; `{ $platform }` in it is the platform's name.
    pub fn args<'a>(&'a self, id: &str, mut args: FluentArgs<'a>) -> String {
        args.set("platform", self.brand.name.as_str());
        self.tr.args(id, &args)
    }

    pub fn t(&self, id: &str) -> String {
        self.args(id, FluentArgs::new())
    }

    /// A message with one more argument.
    pub fn t1<'a>(&'a self, id: &str, name: &'a str, value: impl Into<FluentValue<'a>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value);
        self.args(id, args)
    }

    /// The language's code, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.tr.lang.code()
    }

    /// The other languages, for the switcher: (code, own name).
    pub fn other_languages(&self) -> Vec<(&'static str, &'static str)> {
        Lang::ALL
            .into_iter()
            .filter(|l| *l != self.tr.lang)
            .map(|l| (l.code(), l.endonym()))
            .collect()
    }
}
