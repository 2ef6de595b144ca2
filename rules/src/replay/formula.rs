//! The part of `expr` (github.com/expr-lang/expr) a `scalingModifiers.formula` needs, evaluated the way
//! KEDA's `calculateScalingModifiersFormula` (pkg/scaling/modifiers/formula.go) does: trigger names
//! bound to their values as float64, numbers, `+ - * /`, parentheses, comparisons, `?:`, `&&`/`||`
//! (`and`/`or`), `!`/`not`, unary minus and `min()`, `max()`, `abs()`. Anything else is refused at
//! compile time with the construct named, so the replay says why the object was not replayed.

use std::collections::BTreeMap;

/// Deepest nesting the parser follows (a formula is a one-liner; this keeps recursion bounded).
const MAX_DEPTH: usize = 64;

/// A compiled formula.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Formula {
    root: Expr,
    names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Num(f64),
    Bool(bool),
    Var(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

impl Default for Expr {
    fn default() -> Self {
        Self::Num(0.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Min,
    Max,
    Abs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Num,
    Bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Num(f64),
    Bool(bool),
}

impl Value {
    fn num(self) -> f64 {
        match self {
            Self::Num(v) => v,
            Self::Bool(b) => f64::from(u8::from(b)),
        }
    }

    fn truth(self) -> bool {
        match self {
            Self::Bool(b) => b,
            Self::Num(v) => v != 0.0,
        }
    }
}

impl Formula {
    /// Parses and type-checks `text` against the trigger `names` the formula may use.
    ///
    /// # Errors
    /// What the formula uses that the replay does not evaluate ("uses count(), which the replay
    /// does not evaluate"), or why KEDA rejects it ("names \"x\", which is not a trigger name").
    pub(crate) fn compile(text: &str, names: &[&str]) -> Result<Self, String> {
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens: &tokens,
            pos: 0,
            depth: 0,
        };
        let root = parser.ternary()?;
        if let Some(t) = tokens.get(parser.pos) {
            return Err(format!("has {} where the formula should end", t.describe()));
        }
        let mut used = Vec::new();
        root.vars(&mut used);
        if let Some(unknown) = used.iter().find(|n| !names.contains(&n.as_str())) {
            return Err(format!(
                "names {unknown:?}, which is not the name of a trigger (KEDA rejects it)"
            ));
        }
        match root.type_of()? {
            Type::Num => {}
            Type::Bool => {
                return Err("gives a boolean, not a number (KEDA rejects it)".to_owned());
            }
        }
        used.sort();
        used.dedup();
        Ok(Self { root, names: used })
    }

    /// The trigger names the formula reads.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Evaluates with trigger values by name (a missing name reads as NaN).
    pub(crate) fn eval(&self, values: &BTreeMap<String, f64>) -> f64 {
        self.root.eval(values).num()
    }
}

impl Expr {
    fn vars(&self, out: &mut Vec<String>) {
        match self {
            Self::Num(_) | Self::Bool(_) => {}
            Self::Var(n) => out.push(n.clone()),
            Self::Neg(e) | Self::Not(e) => e.vars(out),
            Self::Bin(_, a, b) => {
                a.vars(out);
                b.vars(out);
            }
            Self::Cond(c, a, b) => {
                c.vars(out);
                a.vars(out);
                b.vars(out);
            }
            Self::Call(_, args) => args.iter().for_each(|a| a.vars(out)),
        }
    }

    /// expr's static types: arithmetic on numbers, `&&`/`||`/`!` on booleans, `?:` branches alike.
    fn type_of(&self) -> Result<Type, String> {
        let want = |e: &Self, t: Type, what: &str| -> Result<(), String> {
            if e.type_of()? == t {
                Ok(())
            } else {
                Err(format!(
                    "mixes booleans and numbers in {what} (KEDA rejects it)"
                ))
            }
        };
        Ok(match self {
            Self::Num(_) | Self::Var(_) => Type::Num,
            Self::Bool(_) => Type::Bool,
            Self::Neg(e) => {
                want(e, Type::Num, "a unary minus")?;
                Type::Num
            }
            Self::Not(e) => {
                want(e, Type::Bool, "a `!`")?;
                Type::Bool
            }
            Self::Bin(op, a, b) => match op {
                Op::Add | Op::Sub | Op::Mul | Op::Div => {
                    want(a, Type::Num, "arithmetic")?;
                    want(b, Type::Num, "arithmetic")?;
                    Type::Num
                }
                Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    want(a, Type::Num, "a comparison")?;
                    want(b, Type::Num, "a comparison")?;
                    Type::Bool
                }
                Op::Eq | Op::Ne => {
                    want(b, a.type_of()?, "a comparison")?;
                    Type::Bool
                }
                Op::And | Op::Or => {
                    want(a, Type::Bool, "`&&`/`||`")?;
                    want(b, Type::Bool, "`&&`/`||`")?;
                    Type::Bool
                }
            },
            Self::Cond(c, a, b) => {
                want(c, Type::Bool, "a `?:` condition")?;
                let t = a.type_of()?;
                want(b, t, "the branches of `?:`")?;
                t
            }
            Self::Call(_, args) => {
                for a in args {
                    want(a, Type::Num, "a min/max/abs argument")?;
                }
                Type::Num
            }
        })
    }

    fn eval(&self, values: &BTreeMap<String, f64>) -> Value {
        match self {
            Self::Num(v) => Value::Num(*v),
            Self::Bool(b) => Value::Bool(*b),
            Self::Var(n) => Value::Num(values.get(n).copied().unwrap_or(f64::NAN)),
            Self::Neg(e) => Value::Num(-e.eval(values).num()),
            Self::Not(e) => Value::Bool(!e.eval(values).truth()),
            Self::Bin(Op::And, a, b) => {
                Value::Bool(a.eval(values).truth() && b.eval(values).truth())
            }
            Self::Bin(Op::Or, a, b) => {
                Value::Bool(a.eval(values).truth() || b.eval(values).truth())
            }
            Self::Bin(op, a, b) => {
                let (x, y) = (a.eval(values), b.eval(values));
                match op {
                    Op::Eq => Value::Bool(x == y),
                    Op::Ne => Value::Bool(x != y),
                    _ => {
                        let (x, y) = (x.num(), y.num());
                        match op {
                            Op::Add => Value::Num(x + y),
                            Op::Sub => Value::Num(x - y),
                            Op::Mul => Value::Num(x * y),
                            // Go float64 division: x/0 is ±Inf or NaN, never a panic.
                            Op::Div => Value::Num(x / y),
                            Op::Lt => Value::Bool(x < y),
                            Op::Le => Value::Bool(x <= y),
                            Op::Gt => Value::Bool(x > y),
                            _ => Value::Bool(x >= y),
                        }
                    }
                }
            }
            Self::Cond(c, a, b) => {
                if c.eval(values).truth() {
                    a.eval(values)
                } else {
                    b.eval(values)
                }
            }
            Self::Call(f, args) => {
                let nums = args.iter().map(|a| a.eval(values).num());
                Value::Num(match f {
                    Func::Abs => nums.sum::<f64>().abs(),
                    Func::Min => nums.fold(f64::INFINITY, f64::min),
                    Func::Max => nums.fold(f64::NEG_INFINITY, f64::max),
                })
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(f64),
    Ident(String),
    Sym(&'static str),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Self::Num(v) => format!("the number {v}"),
            Self::Ident(s) => format!("`{s}`"),
            Self::Sym(s) => format!("`{s}`"),
        }
    }
}

/// Operators, longest first so `<=` is not read as `<`.
const SYMBOLS: &[&str] = &[
    "&&", "||", "<=", ">=", "==", "!=", "+", "-", "*", "/", "(", ")", "<", ">", "?", ":", ",", "!",
];

/// expr operators the replay does not evaluate, named in the refusal.
const UNSUPPORTED: &[&str] = &[
    "??", "?.", "**", "..", "%", "^", "[", "]", "{", "}", "'", "\"", "#", ".",
];

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if c.is_ascii_digit()
            || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            let mut end = rest
                .find(|d: char| !(d.is_ascii_digit() || d == '.' || d == '_'))
                .unwrap_or(rest.len());
            if rest[end..].starts_with(['e', 'E']) {
                let exp = &rest[end + 1..];
                let sign = usize::from(exp.starts_with(['+', '-']));
                let digits = exp[sign..]
                    .find(|d: char| !d.is_ascii_digit())
                    .unwrap_or(exp.len() - sign);
                if digits > 0 {
                    end += 1 + sign + digits;
                }
            }
            let literal: String = rest[..end].chars().filter(|&d| d != '_').collect();
            let value = literal.parse::<f64>().map_err(|_| {
                format!(
                    "has the malformed number {:?} (KEDA rejects it)",
                    &rest[..end]
                )
            })?;
            out.push(Token::Num(value));
            rest = &rest[end..];
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let end = rest
                .find(|d: char| !(d.is_alphanumeric() || d == '_' || d == '$'))
                .unwrap_or(rest.len());
            out.push(Token::Ident(rest[..end].to_owned()));
            rest = &rest[end..];
        } else if let Some(op) = UNSUPPORTED.iter().find(|s| rest.starts_with(**s)) {
            return Err(format!("uses `{op}`, which the replay does not evaluate"));
        } else if let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            out.push(Token::Sym(sym));
            rest = &rest[sym.len()..];
        } else {
            let op: String = rest
                .chars()
                .take_while(|d| !d.is_alphanumeric() && !d.is_whitespace() && !"()".contains(*d))
                .collect();
            return Err(format!("uses `{op}`, which the replay does not evaluate"));
        }
    }
    Ok(out)
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek_sym(&self, sym: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Sym(s)) if *s == sym)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Ident(s)) if s == word)
    }

    fn eat(&mut self, sym: &str) -> Result<(), String> {
        if self.peek_sym(sym) {
            self.pos += 1;
            Ok(())
        } else {
            Err(match self.tokens.get(self.pos) {
                Some(t) => format!("has {} where `{sym}` was expected", t.describe()),
                None => format!("ends where `{sym}` was expected"),
            })
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "nests deeper than {MAX_DEPTH} levels, which the replay does not evaluate"
            ));
        }
        Ok(())
    }

    fn ternary(&mut self) -> Result<Expr, String> {
        self.nest()?;
        let cond = self.or()?;
        let e = if self.peek_sym("?") {
            self.pos += 1;
            let a = self.ternary()?;
            self.eat(":")?;
            let b = self.ternary()?;
            Expr::Cond(Box::new(cond), Box::new(a), Box::new(b))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(e)
    }

    /// One left-associative level: operands from `next`, joined by the operators in `ops`
    /// (symbols or words).
    fn level(
        &mut self,
        ops: &[(&str, Op)],
        next: fn(&mut Self) -> Result<Expr, String>,
    ) -> Result<Expr, String> {
        let mut e = next(self)?;
        loop {
            let op = match self.tokens.get(self.pos) {
                Some(Token::Sym(t)) => ops.iter().find(|(o, _)| o == t),
                Some(Token::Ident(t)) => ops.iter().find(|(o, _)| o == t),
                _ => None,
            };
            let Some(&(_, op)) = op else {
                return Ok(e);
            };
            self.pos += 1;
            e = Expr::Bin(op, Box::new(e), Box::new(next(self)?));
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.level(&[("||", Op::Or), ("or", Op::Or)], Self::and)
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.level(&[("&&", Op::And), ("and", Op::And)], Self::comparison)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let ops = [
            ("<", Op::Lt),
            ("<=", Op::Le),
            (">", Op::Gt),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
        ];
        self.level(&ops, Self::additive)
    }

    fn additive(&mut self) -> Result<Expr, String> {
        self.level(&[("+", Op::Add), ("-", Op::Sub)], Self::multiplicative)
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        self.level(&[("*", Op::Mul), ("/", Op::Div)], Self::unary)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.nest()?;
        let e = if self.peek_sym("-") {
            self.pos += 1;
            Expr::Neg(Box::new(self.unary()?))
        } else if self.peek_sym("+") {
            self.pos += 1;
            self.unary()?
        } else if self.peek_sym("!") || self.peek_word("not") {
            self.pos += 1;
            Expr::Not(Box::new(self.unary()?))
        } else {
            self.primary()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err("ends where a value was expected".to_owned());
        };
        self.pos += 1;
        match token {
            Token::Num(v) => Ok(Expr::Num(v)),
            Token::Sym("(") => {
                let e = self.ternary()?;
                self.eat(")")?;
                Ok(e)
            }
            Token::Sym(s) => Err(format!("has `{s}` where a value was expected")),
            Token::Ident(name) => {
                if self.peek_sym("(") {
                    let func = match name.as_str() {
                        "min" => Func::Min,
                        "max" => Func::Max,
                        "abs" => Func::Abs,
                        _ => {
                            return Err(format!(
                                "uses {name}(), which the replay does not evaluate"
                            ));
                        }
                    };
                    self.pos += 1;
                    let mut args = Vec::new();
                    if !self.peek_sym(")") {
                        args.push(self.ternary()?);
                        while self.peek_sym(",") {
                            self.pos += 1;
                            args.push(self.ternary()?);
                        }
                    }
                    self.eat(")")?;
                    let arity_ok = match func {
                        Func::Abs => args.len() == 1,
                        Func::Min | Func::Max => !args.is_empty(),
                    };
                    if !arity_ok {
                        return Err(format!(
                            "calls {name}() with {} arguments (KEDA rejects it)",
                            args.len()
                        ));
                    }
                    return Ok(Expr::Call(func, args));
                }
                match name.as_str() {
                    "true" => Ok(Expr::Bool(true)),
                    "false" => Ok(Expr::Bool(false)),
                    "nil" | "let" | "in" | "matches" | "contains" | "startsWith" | "endsWith"
                    | "if" | "else" => {
                        Err(format!("uses `{name}`, which the replay does not evaluate"))
                    }
                    _ => Ok(Expr::Var(name)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, vars: &[(&str, f64)]) -> f64 {
        let names: Vec<&str> = vars.iter().map(|(n, _)| *n).collect();
        let f = Formula::compile(text, &names).unwrap_or_else(|e| panic!("{text}: {e}"));
        let values = vars.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect();
        f.eval(&values)
    }

    #[test]
    fn arithmetic_follows_the_usual_precedence() {
        assert_eq!(eval("a + b * 2", &[("a", 1.0), ("b", 3.0)]), 7.0);
        assert_eq!(eval("(a + b) * 2", &[("a", 1.0), ("b", 3.0)]), 8.0);
        assert_eq!(eval("a - b - 1", &[("a", 10.0), ("b", 3.0)]), 6.0);
        assert_eq!(eval("a / b / 2", &[("a", 12.0), ("b", 3.0)]), 2.0);
        assert_eq!(eval("-a + 5", &[("a", 2.0)]), 3.0);
        assert_eq!(eval("- -a", &[("a", 2.0)]), 2.0);
    }

    #[test]
    fn division_by_zero_is_infinite_as_in_go() {
        assert_eq!(eval("a / 0", &[("a", 1.0)]), f64::INFINITY);
        assert!(eval("a / 0", &[("a", 0.0)]).is_nan());
    }

    #[test]
    fn comparisons_and_ternaries_choose_a_branch() {
        let f = "queue > 10 && lat >= 0.5 ? queue * 2 : max(queue, lat, 1)";
        assert_eq!(eval(f, &[("queue", 20.0), ("lat", 0.5)]), 40.0);
        assert_eq!(eval(f, &[("queue", 20.0), ("lat", 0.4)]), 20.0);
        assert_eq!(eval(f, &[("queue", 0.0), ("lat", 0.4)]), 1.0);
        assert_eq!(eval("a < 1 || a == 5 ? 1 : 0", &[("a", 5.0)]), 1.0);
        assert_eq!(eval("a > 1 and not (a > 3) ? 1 : 0", &[("a", 2.0)]), 1.0);
        assert_eq!(eval("min(a, 3) + abs(-a)", &[("a", 5.0)]), 8.0);
        assert_eq!(eval("a > 1 ? 2 : a > 0 ? 1 : 0", &[("a", 0.5)]), 1.0);
    }

    #[test]
    fn numbers_take_exponents_and_leading_dots() {
        assert_eq!(eval("1e3 + .5 + 1_000", &[]), 2000.5);
    }

    #[test]
    fn unsupported_functions_and_operators_are_named() {
        let err = |t: &str| Formula::compile(t, &["a", "b"]).unwrap_err();
        assert_eq!(
            err("count(a)"),
            "uses count(), which the replay does not evaluate"
        );
        assert_eq!(err("a % 2"), "uses `%`, which the replay does not evaluate");
        assert_eq!(
            err("a ?? b"),
            "uses `??`, which the replay does not evaluate"
        );
        assert!(err("a ** 2").contains("**"));
        assert!(err("c + a").contains("\"c\""), "{}", err("c + a"));
        assert!(err("a > b").contains("boolean"));
        assert!(err("a + (b > 1)").contains("mixes"));
        assert!(err("(a + b").contains("`)`"));
        assert!(err("a b").contains("`b`"));
        assert!(err("").contains("ends"));
        assert!(err(&"(".repeat(500)).contains("nests deeper"));
    }

    #[test]
    fn names_lists_each_trigger_once() {
        let f = Formula::compile("a + b + a", &["a", "b", "c"]).unwrap();
        assert_eq!(f.names().collect::<Vec<_>>(), ["a", "b"]);
    }

    /// Fuzz-like: every string built from the formula's alphabet compiles or is refused, and every
    /// compiled formula evaluates, without a panic or an unbounded recursion.
    #[test]
    fn arbitrary_input_never_panics() {
        let pieces = [
            "a", "b", "1", "0", ".5", "2e3", "+", "-", "*", "/", "(", ")", "?", ":", "<", ">=",
            "==", "!=", "&&", "||", "!", "min(", "max(", "abs(", ",", "%", "count(", " ", "true",
            "1e", "é",
        ];
        let mut rng = crate::test_rng::Rng(0x5eed_f012);
        let values: BTreeMap<String, f64> =
            [("a".to_owned(), f64::NAN), ("b".to_owned(), f64::INFINITY)].into();
        for _ in 0..20_000 {
            let len = rng.below(24);
            let text: String = (0..len).map(|_| pieces[rng.below(pieces.len())]).collect();
            if let Ok(f) = Formula::compile(&text, &["a", "b"]) {
                let _ = f.eval(&values);
            }
        }
        let deep = format!("{}a{}", "-(".repeat(10_000), ")".repeat(10_000));
        assert!(Formula::compile(&deep, &["a"]).is_err());
    }
}
