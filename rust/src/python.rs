//! The PyO3 layer: conversions between Python objects and the core's types, and thin
//! wrappers. No protocol logic and no orchestration live here: what runs when, on which
//! thread, is `binding`'s; what the protocol fields mean is `status`'s. This module says
//! how to make Python objects and how to release the GIL (`Gil`, a `binding::Host`).

use crate::binding::{self, BatchEnvelope, Contents, Data, Host};
use crate::diagnose::Diagnosis;
use crate::envelope::{self, Credentials, EnvelopeCodec, Message, PackOptions};
use crate::error::Error;
use crate::json::{check_number, is_number_literal, Abort, Key, Limits, Members, Text, Value, MAX_INTEGER_DIGITS};
use crate::sign_text::KeyOrder;
use crate::sm2::{PrivateKey, PublicKey, DEFAULT_UID};
use crate::status::{Code, Status};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------
// Errors: the classes live in Python (medpay_core.errors) so users can import and
// subclass them without the native module.

/// The Python exception of a core error. Its extra attributes are keyword-only arguments
/// of the classes (`EnvelopeError(message, *, field=None)`, `DecryptError(message, *,
/// center_code=None, center_message=None)`), passed only when set.
fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    let class = match e {
        Error::KeyFormat(_) => "KeyFormatError",
        Error::Signature(_) => "SignatureError",
        Error::Decrypt(_) => "DecryptError",
        Error::Envelope(_) => "EnvelopeError",
    };
    let made = (|| -> PyResult<PyErr> {
        let cls = py.import("medpay_core.errors")?.getattr(class)?;
        let kwargs = PyDict::new(py);
        if let Some(field) = e.field() {
            kwargs.set_item("field", field)?;
        }
        if let Some(center) = e.center() {
            kwargs.set_item("center_code", code_to_py(py, &center.code)?)?;
            if let Some(m) = &center.message {
                kwargs.set_item("center_message", m)?;
            }
        }
        let kwargs = if kwargs.is_empty() { None } else { Some(&kwargs) };
        Ok(PyErr::from_value(cls.call((e.message(),), kwargs)?))
    })();
    made.unwrap_or_else(|err| err)
}

/// A `code` as Python has it: an int, or the text as sent.
fn code_to_py(py: Python<'_>, code: &Code) -> PyResult<Py<PyAny>> {
    Ok(match code {
        Code::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Code::Text(t) => PyString::new(py, t).into_any().unbind(),
    })
}

/// The GIL, as the core's orchestration (`binding`) needs it.
struct Gil<'py>(Python<'py>);

impl Host for Gil<'_> {
    type Error = PyErr;
    fn error(&self, e: Error) -> PyErr {
        to_py_err(self.0, e)
    }
    fn unlocked<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.0.detach(f)
    }
}

trait IntoPyResult<T> {
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, e))
    }
}

// ---------------------------------------------------------------------------------------
// Python <-> JSON values

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

// PyUnicode_AsUTF8AndSize borrows the string's cached UTF-8 (no copy, no temporary bytes
// object). It joined the limited API in 3.10; every CPython 3 exports it, so it links on
// 3.9 too, but there we keep to the 3.9 limited API and only call it on 3.10+.
extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

static HAS_BORROWED_UTF8: PyOnceLock<bool> = PyOnceLock::new();

/// The text of a Python str, borrowed when the interpreter allows it.
fn str_text<'a>(s: &'a Bound<'_, PyString>) -> PyResult<std::borrow::Cow<'a, str>> {
    let py = s.py();
    if *HAS_BORROWED_UTF8.get_or_init(py, || py.version_info() >= (3, 10)) {
        let mut len: pyo3::ffi::Py_ssize_t = 0;
        // SAFETY: `s` is a live str object (we hold a reference for 'a); the returned
        // buffer belongs to it, is valid UTF-8 of `len` bytes and lives as long as it does.
        let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len) };
        if ptr.is_null() {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: as above; `len` is non-negative when `ptr` is not null.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize) };
        // SAFETY: CPython guarantees the buffer is UTF-8.
        return Ok(std::borrow::Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(bytes) }));
    }
    s.to_cow()
}

/// The text of a Python str the caller gave as `what`, or an EnvelopeError: a str with a
/// lone surrogate (`'\ud800'`) has no UTF-8 form, so it can be neither sent nor signed.
/// The error never quotes the text (it may be the appSecret).
fn text_arg<'a>(s: &'a Bound<'_, PyString>, what: &str) -> PyResult<std::borrow::Cow<'a, str>> {
    str_text(s).map_err(|_| to_py_err(s.py(), surrogate_error(what)))
}

fn surrogate_error(what: &str) -> Error {
    Error::envelope(format!("{what} is not valid Unicode (it holds a lone surrogate)"))
}

/// The text of a key given as a str; a lone surrogate is a KeyFormatError.
fn key_text_arg<'a>(s: &'a Bound<'_, PyString>) -> PyResult<std::borrow::Cow<'a, str>> {
    str_text(s).map_err(|_| {
        to_py_err(s.py(), Error::KeyFormat("the key is not valid Unicode (it holds a lone surrogate)".into()))
    })
}

fn decimal_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    DECIMAL
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("decimal")?.getattr("Decimal")?.unbind()))
        .map(|c| c.bind(py))
}

/// Convert a Python value (dict, list, tuple, str, int, bool, None, Decimal) to JSON.
/// Floats are refused: their decimal literal is not what the caller meant to sign.
fn to_value(obj: &Bound<'_, PyAny>, depth: usize, limits: Limits) -> Result<Value, Error> {
    if depth > limits.max_depth {
        return Err(Error::envelope(format!("data nested deeper than {} levels", limits.max_depth)));
    }
    // Exact built-in types first, one pointer comparison each (subclasses such as str
    // enums take the general path below).
    let t = obj.get_type_ptr();
    let (str_t, dict_t, list_t, int_t) = (
        std::ptr::addr_of_mut!(pyo3::ffi::PyUnicode_Type),
        std::ptr::addr_of_mut!(pyo3::ffi::PyDict_Type),
        std::ptr::addr_of_mut!(pyo3::ffi::PyList_Type),
        std::ptr::addr_of_mut!(pyo3::ffi::PyLong_Type),
    );
    if t == str_t {
        // SAFETY: the exact type is str.
        return string_value(unsafe { obj.cast_unchecked::<PyString>() });
    }
    if t == dict_t {
        // SAFETY: the exact type is dict.
        return dict_value(unsafe { obj.cast_unchecked::<PyDict>() }, depth, limits);
    }
    if t == list_t {
        // SAFETY: the exact type is list.
        let l = unsafe { obj.cast_unchecked::<PyList>() };
        return l.iter().map(|v| to_value(&v, depth + 1, limits)).collect::<Result<_, _>>().map(Value::Array);
    }
    if t == int_t {
        return int_value(obj);
    }
    let py = obj.py();
    let decimal = decimal_class(py).map_err(|_| Error::envelope("the decimal module is unavailable"))?;
    if t.cast::<pyo3::ffi::PyObject>() == decimal.as_ptr() {
        return decimal_value(obj);
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return string_value(s);
    }
    if obj.cast::<PyInt>().is_ok() {
        return int_value(obj);
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return dict_value(d, depth, limits);
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| to_value(&v, depth + 1, limits)).collect::<Result<_, _>>().map(Value::Array);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| to_value(&v, depth + 1, limits)).collect::<Result<_, _>>().map(Value::Array);
    }
    if obj.cast::<PyFloat>().is_ok() {
        return Err(Error::envelope(
            "float values are not accepted (their decimal text is ambiguous); use decimal.Decimal or str",
        ));
    }
    if obj.is_instance(decimal).unwrap_or(false) {
        return decimal_value(obj);
    }
    Err(Error::envelope(format!("values of type {} cannot be sent as JSON", type_name(obj))))
}

fn string_value(s: &Bound<'_, PyString>) -> Result<Value, Error> {
    str_text(s)
        .map(|s| Value::String(Text::new(&s)))
        .map_err(|_| Error::envelope("a string is not valid Unicode (lone surrogate)"))
}

fn decimal_value(obj: &Bound<'_, PyAny>) -> Result<Value, Error> {
    let bad = |_| Error::envelope("a Decimal could not be formatted");
    let lit = obj.str().map_err(bad)?;
    let lit = str_text(&lit).map_err(bad)?;
    if !is_number_literal(&lit) {
        return Err(Error::envelope(format!("Decimal {lit} is not a finite JSON number")));
    }
    // What the peer's parser would refuse is not sent (Decimal('1e5000') is '1E+5000'
    // and passes, but Decimal(10**5000) written out does not).
    check_number(&lit).map_err(|what| Error::envelope(format!("a Decimal: {what}")))?;
    Ok(Value::Number(Text::new(&lit)))
}

fn int_value(obj: &Bound<'_, PyAny>) -> Result<Value, Error> {
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Value::Number(compact_str::ToCompactString::to_compact_string(&i)));
    }
    // str() of an int fails only over the interpreter's digit limit; within it, the core's
    // own bound (the same as CPython's default) still applies.
    let lit = obj.str().map_err(|_| {
        Error::envelope(format!(
            "an int: more digits than this interpreter writes as text (sys.get_int_max_str_digits(); medpay's limit is {MAX_INTEGER_DIGITS})"
        ))
    })?;
    let lit = lit.to_string();
    check_number(&lit).map_err(|what| Error::envelope(format!("an int: {what}")))?;
    Ok(Value::Number(Text::new(lit)))
}

fn dict_value(d: &Bound<'_, PyDict>, depth: usize, limits: Limits) -> Result<Value, Error> {
    dict_members(d, depth, limits).map(Value::Object)
}

fn dict_members(d: &Bound<'_, PyDict>, depth: usize, limits: Limits) -> Result<Members, Error> {
    let mut members = Vec::with_capacity(d.len());
    for (k, v) in d.iter() {
        let key = k
            .cast::<PyString>()
            .map_err(|_| Error::envelope(format!("object keys must be str, not {}", type_name(&k))))
            .and_then(|k| str_text(k).map_err(|_| Error::envelope("a key is not valid Unicode")))?;
        let key = Text::new(&key);
        members.push((key, to_value(&v, depth + 1, limits)?));
    }
    Ok(members)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// Convert JSON to Python: integers as int, other numbers as Decimal with their literal.
fn to_py(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Converter::new(py).convert(v).map(Bound::unbind)
}

/// JSON to Python, sharing what repeats within one document: a key (the 40 field names of
/// every fee line) or a short string value (the same department, doctor and dates on every
/// line) becomes one str object, and a number literal one int or Decimal (all immutable,
/// so sharing is invisible to callers, and a 6201 upload needs a fifth of the objects).
/// The tables use a seeded hash and stop growing at `SHARED_LIMIT` entries, so hostile
/// documents cannot make them slow.
struct Converter<'py, 'v> {
    py: Python<'py>,
    strings: HashMap<&'v str, Bound<'py, PyString>>,
    numbers: HashMap<&'v str, Bound<'py, PyAny>>,
    // Why a direct parse was aborted.
    error: Option<PyErr>,
    // Where a direct parse waits for the signature (binding::Gate), and what the objects
    // built so far cost (an estimate on the high side, in bytes).
    gate: Option<&'v binding::Gate<'v>>,
    cost: usize,
}

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

const SHARED_LIMIT: usize = 4096;

/// String values up to this length are shared (longer ones rarely repeat).
const SHARED_STR_BYTES: usize = 24;

impl<'py, 'v> Converter<'py, 'v> {
    fn new(py: Python<'py>) -> Self {
        Converter { py, strings: HashMap::default(), numbers: HashMap::default(), error: None, gate: None, cost: 0 }
    }

    fn number(&mut self, n: &'v str) -> PyResult<Bound<'py, PyAny>> {
        if let Some(x) = self.numbers.get(n) {
            return Ok(x.clone());
        }
        let py = self.py;
        // "-0" has no int form that keeps its sign: it stays a Decimal like fractions.
        let x = if !n.contains(['.', 'e', 'E']) && n != "-0" {
            match n.parse::<i64>() {
                Ok(i) => i.into_pyobject(py)?.into_any(),
                Err(_) => py.get_type::<PyInt>().call1((n,)).map_err(|e| number_error(py, e, "an integer", n.len()))?,
            }
        } else {
            decimal_class(py)?.call1((n,)).map_err(|e| number_error(py, e, "a number", n.len()))?
        };
        if self.numbers.len() < SHARED_LIMIT {
            self.numbers.insert(n, x.clone());
        }
        Ok(x)
    }

    /// A shared str object for a key or a short string value.
    fn string(&mut self, k: &'v str) -> Bound<'py, PyString> {
        if let Some(x) = self.strings.get(k) {
            return x.clone();
        }
        let x = PyString::new(self.py, k);
        if self.strings.len() < SHARED_LIMIT {
            self.strings.insert(k, x.clone());
        }
        x
    }

    fn convert(&mut self, v: &'v Value) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        Ok(match v {
            Value::Null => py.None().into_bound(py),
            Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
            Value::String(s) if s.len() <= SHARED_STR_BYTES => self.string(s).into_any(),
            Value::String(s) => PyString::new(py, s).into_any(),
            Value::Number(n) => self.number(n)?,
            Value::Array(items) => {
                let mut built = Vec::with_capacity(items.len());
                for it in items {
                    built.push(self.convert(it)?);
                }
                list_of(py, built.into_iter())?
            }
            Value::Object(members) => self.members(members)?.into_any(),
        })
    }

    /// An object's members as a dict.
    fn members(&mut self, members: &'v [(Text, Value)]) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(self.py);
        for (k, it) in members {
            let key = self.string(k);
            let x = self.convert(it)?;
            // SAFETY: all three are live objects; PyDict_SetItem does not steal.
            if unsafe { pyo3::ffi::PyDict_SetItem(d.as_ptr(), key.as_ptr(), x.as_ptr()) } < 0 {
                return Err(PyErr::fetch(self.py));
            }
        }
        Ok(d)
    }
}

/// What one Python object costs at least (a str's header, a small int, a dict's or a
/// list's), for [`Converter::spend`]'s estimate; each charged as new though many are shared.
const OBJECT_BYTES: usize = 64;

impl Converter<'_, '_> {
    /// Count an object's cost; past [`binding::VERIFY_FIRST_OBJECT_BYTES`], wait at the gate
    /// for the signature and stop if it failed (unpack reports its error).
    #[inline]
    fn spend(&mut self, bytes: usize) -> Result<(), Abort> {
        self.cost += bytes;
        match self.gate {
            Some(g) if self.cost >= binding::VERIFY_FIRST_OBJECT_BYTES && !g.pass() => {
                self.error = Some(PyRuntimeError::new_err("stopped: the signature did not verify"));
                Err(Abort)
            }
            _ => Ok(()),
        }
    }
}

/// JSON text straight to Python objects, with the sharing of [`Converter`] and no
/// intermediate [`Value`]: the parse of a large unpacked message (see `unpack`).
impl<'py, 'a> crate::json::Builder<'a> for Converter<'py, 'a> {
    type Out = Bound<'py, PyAny>;

    fn null(&mut self, _: usize) -> Result<Self::Out, Abort> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn boolean(&mut self, b: bool, _: usize) -> Result<Self::Out, Abort> {
        Ok(PyBool::new(self.py, b).to_owned().into_any())
    }
    fn number(&mut self, lit: &'a str, _: usize) -> Result<Self::Out, Abort> {
        self.spend(OBJECT_BYTES + lit.len())?;
        let r = Converter::number(self, lit);
        self.keep(r)
    }
    fn string(&mut self, s: &'a str, _: usize) -> Result<Self::Out, Abort> {
        self.spend(OBJECT_BYTES + s.len())?;
        Ok(if s.len() <= SHARED_STR_BYTES {
            Converter::string(self, s).into_any()
        } else {
            PyString::new(self.py, s).into_any()
        })
    }
    fn decoded_string(&mut self, s: String, _: usize) -> Result<Self::Out, Abort> {
        self.spend(OBJECT_BYTES + s.len())?;
        Ok(PyString::new(self.py, &s).into_any())
    }
    fn array(&mut self, items: std::vec::Drain<'_, Self::Out>, _: usize) -> Result<Self::Out, Abort> {
        self.spend(OBJECT_BYTES + 8 * items.len())?;
        let r = list_of(self.py, items);
        self.keep(r)
    }
    fn object(&mut self, members: std::vec::Drain<'_, (Key<'a>, Self::Out)>, _: usize) -> Result<Self::Out, Abort> {
        self.spend(OBJECT_BYTES + 48 * members.len())?;
        let d = PyDict::new(self.py);
        for (k, v) in members {
            let key = match k {
                Key::Borrowed(k) => Converter::string(self, k),
                Key::Owned(k) => PyString::new(self.py, &k),
            };
            // SAFETY: all three are live objects; PyDict_SetItem does not steal.
            if unsafe { pyo3::ffi::PyDict_SetItem(d.as_ptr(), key.as_ptr(), v.as_ptr()) } < 0 {
                self.error = Some(PyErr::fetch(self.py));
                return Err(Abort);
            }
        }
        Ok(d.into_any())
    }
}

/// The error of a number literal that the core accepted (`json::check_number`) and Python
/// still would not convert: an interpreter whose `sys.set_int_max_str_digits` is below
/// CPython's default, or a platform whose `Decimal` exponents are narrower. A typed
/// EnvelopeError like the core's refusal; other errors (MemoryError) pass unchanged.
fn number_error(py: Python<'_>, e: PyErr, what: &str, literal_len: usize) -> PyErr {
    if e.is_instance_of::<pyo3::exceptions::PyValueError>(py)
        || e.is_instance_of::<pyo3::exceptions::PyArithmeticError>(py)
    {
        to_py_err(
            py,
            Error::envelope(format!(
                "{what} of {literal_len} characters that this interpreter cannot convert (beyond sys.get_int_max_str_digits() or Decimal's exponent range)"
            )),
        )
    } else {
        e
    }
}

/// Whether `e` is one of medpay's own errors: what a batch reports as that item's result.
fn is_medpay_error(py: Python<'_>, e: &PyErr) -> bool {
    py.import("medpay_core.errors")
        .and_then(|m| m.getattr("MedpayError"))
        .map(|cls| e.value(py).is_instance(&cls).unwrap_or(false))
        .unwrap_or(false)
}

impl<'py> Converter<'py, '_> {
    /// A builder's result: a Python error is kept for `parse_to_py` to raise.
    fn keep(&mut self, r: PyResult<Bound<'py, PyAny>>) -> Result<Bound<'py, PyAny>, Abort> {
        r.map_err(|e| {
            self.error = Some(e);
            Abort
        })
    }
}

/// A list of `items` (each reference moved into the list).
fn list_of<'py>(
    py: Python<'py>,
    items: impl ExactSizeIterator<Item = Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::ffi;
    // SAFETY: PyList_New returns a new reference (or NULL with an exception set); each slot
    // is filled once below, PyList_SetItem stealing the reference. A list left partly
    // filled by an error is still valid to free.
    let l = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyList_New(items.len() as ffi::Py_ssize_t))? };
    for (i, x) in items.enumerate() {
        if unsafe { ffi::PyList_SetItem(l.as_ptr(), i as ffi::Py_ssize_t, x.into_ptr()) } < 0 {
            return Err(PyErr::fetch(py));
        }
    }
    Ok(l)
}

/// Parse JSON text straight to Python objects (within `limits`); JSON errors map as
/// `map_json` says.
fn parse_to_py<'py, 'a>(
    conv: &mut Converter<'py, 'a>,
    text: &'a [u8],
    limits: Limits,
    map_json: impl FnOnce(crate::json::JsonError) -> Error,
) -> PyResult<Bound<'py, PyAny>> {
    let py = conv.py;
    match crate::json::parse_with(text, limits, conv) {
        Ok(v) => Ok(v),
        Err(crate::json::JsonError::Aborted) => {
            Err(conv.error.take().unwrap_or_else(|| PyRuntimeError::new_err("JSON parse aborted")))
        }
        Err(e) => Err(to_py_err(py, map_json(e))),
    }
}

fn members_to_dict(py: Python<'_>, members: &[(Text, Value)]) -> PyResult<Py<PyDict>> {
    Converter::new(py).members(members).map(Bound::unbind)
}

/// An envelope (or any message) given as a dict, or as its JSON text in str or bytes,
/// as members: text is parsed by the core (`envelope::parse_envelope`).
fn envelope_members(py: Python<'_>, obj: &Bound<'_, PyAny>, limits: Limits) -> PyResult<Members> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return envelope::parse_envelope(b.as_bytes(), limits).py(py);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return envelope::parse_envelope(text_arg(s, "the envelope")?.as_bytes(), limits).py(py);
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return dict_members(d, 0, limits).py(py);
    }
    Err(PyTypeError::new_err(format!("expected dict, str or bytes, not {}", type_name(obj))))
}

// ---------------------------------------------------------------------------------------
// Keys

/// An SM2 private key. Its repr shows only the public key.
#[pyclass(name = "SM2PrivateKey", module = "medpay_core", frozen)]
pub struct PySM2PrivateKey {
    inner: PrivateKey,
}

#[pymethods]
impl PySM2PrivateKey {
    /// A new random key.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        Ok(Self { inner: PrivateKey::generate().py(py)? })
    }

    /// Read a key in any format of docs/protocol.md §5 (hex, Base64, PEM, Base64 DER).
    #[staticmethod]
    fn from_string(py: Python<'_>, s: &Bound<'_, PyString>) -> PyResult<Self> {
        Ok(Self { inner: PrivateKey::from_string(&key_text_arg(s)?).py(py)? })
    }

    /// Read a key from bytes: the 32-byte scalar (33 with a leading zero) or DER.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, b: &[u8]) -> PyResult<Self> {
        Ok(Self { inner: PrivateKey::from_bytes(b).py(py)? })
    }

    fn public_key(&self) -> PySM2PublicKey {
        PySM2PublicKey { inner: self.inner.public_key().clone() }
    }

    /// SM3withSM2 signature of `message`: raw r||s, 64 bytes.
    #[pyo3(signature = (message, uid = DEFAULT_UID))]
    fn sign<'py>(&self, py: Python<'py>, message: &[u8], uid: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let sig = py.detach(|| self.inner.sign(message, uid)).py(py)?;
        Ok(PyBytes::new(py, &sig))
    }

    /// 64 hex characters of the scalar.
    fn to_hex(&self) -> String {
        self.inner.to_hex().to_string()
    }

    /// PKCS#8 PEM.
    fn to_pem(&self) -> String {
        self.inner.to_pem().to_string()
    }

    /// DER: PKCS#8 (default) or SEC1 (`format="sec1"`).
    #[pyo3(signature = (format = "pkcs8"))]
    fn to_der<'py>(&self, py: Python<'py>, format: &str) -> PyResult<Bound<'py, PyBytes>> {
        let der = match format {
            "pkcs8" => self.inner.to_pkcs8_der(),
            "sec1" => self.inner.to_sec1_der(),
            _ => return Err(PyTypeError::new_err("format is 'pkcs8' or 'sec1'")),
        };
        Ok(PyBytes::new(py, &der))
    }

    /// Base64 of the 32-byte scalar.
    fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&self.inner.to_scalar_bytes()[..])
    }

    fn __repr__(&self) -> String {
        format!("<SM2PrivateKey public={}…>", &self.inner.public_key().to_hex()[..18])
    }
}

/// An SM2 public key.
#[pyclass(name = "SM2PublicKey", module = "medpay_core", frozen, eq)]
#[derive(PartialEq)]
pub struct PySM2PublicKey {
    inner: PublicKey,
}

#[pymethods]
impl PySM2PublicKey {
    /// Read a key in any format of docs/protocol.md §5 (hex/Base64 of 65, 64 or 33 bytes, PEM).
    #[staticmethod]
    fn from_string(py: Python<'_>, s: &Bound<'_, PyString>) -> PyResult<Self> {
        Ok(Self { inner: PublicKey::from_string(&key_text_arg(s)?).py(py)? })
    }

    /// Read a key from bytes: SEC1 (65, 64, 33 bytes) or DER SubjectPublicKeyInfo.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, b: &[u8]) -> PyResult<Self> {
        Ok(Self { inner: PublicKey::from_bytes(b).py(py)? })
    }

    /// Whether `signature` (raw r||s or DER) is valid over `message`.
    #[pyo3(signature = (message, signature, uid = DEFAULT_UID))]
    fn verify(&self, py: Python<'_>, message: &[u8], signature: &[u8], uid: &[u8]) -> bool {
        py.detach(|| self.inner.verify(message, signature, uid))
    }

    /// 130 hex characters: 04||X||Y.
    fn to_hex(&self) -> String {
        self.inner.to_hex()
    }

    /// SEC1 bytes, uncompressed (65) or compressed (33).
    #[pyo3(signature = (compressed = false))]
    fn to_bytes<'py>(&self, py: Python<'py>, compressed: bool) -> Bound<'py, PyBytes> {
        if compressed {
            PyBytes::new(py, &self.inner.to_compressed())
        } else {
            PyBytes::new(py, &self.inner.to_uncompressed())
        }
    }

    /// Base64 of 04||X||Y.
    fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.inner.to_uncompressed())
    }

    /// SubjectPublicKeyInfo PEM.
    fn to_pem(&self) -> String {
        self.inner.to_pem()
    }

    /// SubjectPublicKeyInfo DER.
    fn to_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_spki_der())
    }

    fn __hash__(&self) -> u64 {
        let b = self.inner.to_uncompressed();
        u64::from_be_bytes([b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]])
    }

    fn __repr__(&self) -> String {
        format!("<SM2PublicKey {}>", self.inner.to_hex())
    }
}

fn private_key_arg(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PrivateKey>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(k) = o.cast::<PySM2PrivateKey>() {
                Ok(Some(k.get().inner.clone()))
            } else if let Ok(s) = o.cast::<PyString>() {
                Ok(Some(PrivateKey::from_string(&s.to_cow()?).py(py)?))
            } else if let Ok(b) = o.cast::<PyBytes>() {
                Ok(Some(PrivateKey::from_bytes(b.as_bytes()).py(py)?))
            } else {
                Err(PyTypeError::new_err("private_key must be an SM2PrivateKey, str, bytes or None"))
            }
        }
    }
}

fn public_key_arg(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PublicKey>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(k) = o.cast::<PySM2PublicKey>() {
                Ok(Some(k.get().inner.clone()))
            } else if let Ok(k) = o.cast::<PySM2PrivateKey>() {
                Ok(Some(k.get().inner.public_key().clone()))
            } else if let Ok(s) = o.cast::<PyString>() {
                Ok(Some(PublicKey::from_string(&s.to_cow()?).py(py)?))
            } else if let Ok(b) = o.cast::<PyBytes>() {
                Ok(Some(PublicKey::from_bytes(b.as_bytes()).py(py)?))
            } else {
                Err(PyTypeError::new_err("public key must be an SM2PublicKey, str, bytes or None"))
            }
        }
    }
}

/// The peer's public keys: one key (as `public_key_arg` reads it), or a list or tuple of
/// them (key rotation). `None` when there is none; an empty list is left to
/// `Credentials::with_peer_public_keys` to refuse.
fn public_keys_arg(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<PublicKey>>> {
    let one = |o: &Bound<'_, PyAny>| {
        public_key_arg(py, Some(o))?
            .ok_or_else(|| PyTypeError::new_err("each public key must be an SM2PublicKey, SM2PrivateKey, str or bytes"))
    };
    match obj {
        Some(o) if o.is_instance_of::<PyList>() || o.is_instance_of::<PyTuple>() => {
            Ok(Some(o.try_iter()?.map(|k| one(&k?)).collect::<PyResult<_>>()?))
        }
        _ => Ok(public_key_arg(py, obj)?.map(|k| vec![k])),
    }
}

fn key_order_arg(name: &str) -> PyResult<KeyOrder> {
    KeyOrder::from_name(name).ok_or_else(|| PyTypeError::new_err("key_order is 'ordinal' or 'case_insensitive'"))
}

// ---------------------------------------------------------------------------------------
// Credentials and the codec

/// appId, appSecret, our private key and the peer's public key, or a list of them while the
/// peer rotates its key (`Credentials::with_peer_public_keys`). The repr hides the secret.
/// The appId and appSecret are taken without surrounding white space (`Credentials::new`).
#[pyclass(name = "Credentials", module = "medpay_core", frozen)]
pub struct PyCredentials {
    inner: Arc<Credentials>,
}

#[pymethods]
impl PyCredentials {
    #[new]
    #[pyo3(
        signature = (app_id, app_secret, private_key = None, peer_public_key = None, *, key_order = None, uid = DEFAULT_UID),
        text_signature = "(app_id, app_secret, private_key=None, peer_public_key=None, *, key_order='ordinal', uid=...)"
    )]
    fn new(
        py: Python<'_>,
        app_id: &Bound<'_, PyString>,
        app_secret: &Bound<'_, PyString>,
        private_key: Option<&Bound<'_, PyAny>>,
        peer_public_key: Option<&Bound<'_, PyAny>>,
        key_order: Option<&Bound<'_, PyString>>,
        uid: &[u8],
    ) -> PyResult<Self> {
        let (app_id, app_secret) = (text_arg(app_id, "app_id")?, text_arg(app_secret, "app_secret")?);
        let order = match key_order {
            Some(k) => key_order_arg(&text_arg(k, "key_order")?)?,
            None => KeyOrder::default(),
        };
        let sk = private_key_arg(py, private_key)?;
        let peer_keys = public_keys_arg(py, peer_public_key)?;
        let creds = Credentials::new(&app_id, &app_secret, sk, None, order)
            .and_then(|c| match peer_keys {
                Some(keys) => c.with_peer_public_keys(keys),
                None => Ok(c),
            })
            .and_then(|c| c.with_uid(uid))
            .py(py)?;
        Ok(Self { inner: Arc::new(creds) })
    }

    /// The credentials of one institution of a sandbox config: glue for
    /// `medpay_core.sandbox.config.institution_credentials(config, org_codg=org_codg)`,
    /// which reads the config and picks the institution.
    #[classmethod]
    #[pyo3(signature = (config, org_codg = None))]
    fn from_sandbox_config<'py>(
        cls: &Bound<'py, PyType>,
        config: &Bound<'py, PyAny>,
        org_codg: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        let read = py.import("medpay_core.sandbox.config")?.getattr("institution_credentials")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("org_codg", org_codg)?;
        read.call((config,), Some(&kwargs))
    }

    #[getter]
    fn app_id(&self) -> &str {
        self.inner.app_id()
    }

    /// The shared appSecret (a secret: do not log it).
    #[getter]
    fn app_secret(&self) -> &str {
        self.inner.app_secret()
    }

    #[getter]
    fn key_order(&self) -> &'static str {
        self.inner.key_order().name()
    }

    #[getter]
    fn private_key(&self) -> Option<PySM2PrivateKey> {
        self.inner.private_key().map(|k| PySM2PrivateKey { inner: k.clone() })
    }

    /// The peer's public key: the first of `peer_public_keys`.
    #[getter]
    fn peer_public_key(&self) -> Option<PySM2PublicKey> {
        self.inner.peer_public_key().map(|k| PySM2PublicKey { inner: k.clone() })
    }

    /// Every key a peer's signature may verify with, in the order given (and tried).
    #[getter]
    fn peer_public_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.peer_public_keys().iter().map(|k| PySM2PublicKey { inner: k.clone() }))
    }

    fn __repr__(&self) -> String {
        format!(
            "Credentials(app_id={:?}, app_secret='***', private_key={}, peer_public_key={}, key_order={:?})",
            self.inner.app_id(),
            if self.inner.private_key().is_some() { "<set>" } else { "None" },
            match self.inner.peer_public_keys().len() {
                0 => "None".to_string(),
                1 => "<set>".to_string(),
                n => format!("<{n} keys>"),
            },
            self.inner.key_order().name()
        )
    }
}

/// An unpacked message. `code`, `success` and `message` are the core's reading of the
/// protocol fields (`status::Status`); `sign_text` ends with `&key=********`.
#[pyclass(name = "Message", module = "medpay_core", frozen)]
pub struct PyMessage {
    #[pyo3(get)]
    data: Py<PyAny>,
    #[pyo3(get)]
    fields: Py<PyDict>,
    /// The sign text that verified, the appSecret at its end masked as `********`.
    #[pyo3(get)]
    sign_text: Option<String>,
    status: Status,
}

#[pymethods]
impl PyMessage {
    /// `code`: an int when it is an integral number or a string holding an integer
    /// (`0`, `"0"`, `" 0 "`), else the text as sent; None when absent.
    #[getter]
    fn code(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.status.code.as_ref().map(|c| code_to_py(py, c)).transpose()
    }

    /// `message` (or `msg` when `message` is absent) as a str; None when neither is there.
    #[getter]
    fn message(&self) -> Option<&str> {
        self.status.message.as_deref()
    }

    /// `success`: a bool from a JSON bool or the strings "true"/"false" (any case,
    /// trimmed); None otherwise.
    #[getter]
    fn success(&self) -> Option<bool> {
        self.status.success
    }

    /// Whether the message carried a signature that verified.
    #[getter]
    fn signed(&self) -> bool {
        self.sign_text.is_some()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let keys: Vec<String> = self.fields.bind(py).keys().iter().map(|k| k.to_string()).collect();
        Ok(format!("<Message fields={keys:?} signed={}>", self.sign_text.is_some()))
    }
}

/// The data's top-level members plus the items of the lists among them: the size hint
/// `binding::pack` takes (0 for data that is not a dict).
fn top_level_items(data: &Bound<'_, PyAny>) -> usize {
    let Ok(d) = data.cast::<PyDict>() else { return 0 };
    let mut n = d.len();
    for (_, v) in d.iter() {
        if let Ok(l) = v.cast::<PyList>() {
            n += l.len();
        }
    }
    n
}

/// The Python objects of an unpacked message: its data (straight from its JSON text, or
/// from its value) and its fields, with one converter so that they share strings.
fn build_message(py: Python<'_>, contents: Contents<'_>) -> PyResult<(Py<PyAny>, Py<PyDict>)> {
    let mut conv = Converter::new(py);
    conv.gate = contents.gate();
    let data = match contents.data() {
        Data::Text(text) => parse_to_py(&mut conv, text, contents.limits(), |e| contents.json_error(e))?,
        Data::Value(v) => conv.convert(v)?,
    };
    let fields = conv.members(contents.fields())?;
    Ok((data.unbind(), fields.unbind()))
}

/// A Message as Python objects. One converter may serve many messages (a batch chunk), so
/// that their field names and common values are shared too.
fn message_to_py<'v>(conv: &mut Converter<'_, 'v>, m: &'v mut Message) -> PyResult<PyMessage> {
    let sign_text = m.sign_text.take();
    let status = std::mem::take(&mut m.status);
    let m: &'v Message = m;
    Ok(PyMessage {
        data: conv.convert(&m.data)?.unbind(),
        fields: conv.members(&m.fields)?.unbind(),
        sign_text,
        status,
    })
}

/// `pack`'s `timestamp` and `version` arguments as the core's options (`version` None is
/// the protocol's).
fn pack_options(
    timestamp: Option<&Bound<'_, PyString>>,
    version: Option<&Bound<'_, PyString>>,
) -> PyResult<PackOptions> {
    let timestamp = timestamp.map(|t| text_arg(t, "timestamp").map(|t| t.into_owned())).transpose()?;
    let version = match version {
        Some(v) => text_arg(v, "version")?.into_owned(),
        None => envelope::VERSION.to_string(),
    };
    Ok(PackOptions { timestamp, version: Some(version), fields: vec![] })
}

/// Packs and unpacks envelopes for one set of credentials.
#[pyclass(name = "EnvelopeCodec", module = "medpay_core", frozen)]
pub struct PyEnvelopeCodec {
    inner: EnvelopeCodec,
}

impl PyEnvelopeCodec {
    fn pack_members(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timestamp: Option<&Bound<'_, PyString>>,
        version: Option<&Bound<'_, PyString>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Members> {
        let limits = self.inner.limits();
        binding::pack(&Gil(py), &self.inner, top_level_items(data), || {
            let data = to_value(data, 0, limits).py(py)?;
            let mut extra = Vec::new();
            if let Some(f) = fields {
                for (k, v) in f.iter() {
                    // **fields keys are always str.
                    let key = text_arg(k.cast::<PyString>()?, "a field name")?;
                    extra.push((Text::new(&key), to_value(&v, 1, limits).py(py)?));
                }
            }
            Ok((data, PackOptions { fields: extra, ..pack_options(timestamp, version)? }))
        })
    }
}

#[pymethods]
impl PyEnvelopeCodec {
    #[new]
    #[pyo3(signature = (credentials, *, max_bytes = 8 * 1024 * 1024, max_depth = 64))]
    fn new(credentials: &PyCredentials, max_bytes: usize, max_depth: usize) -> Self {
        let limits = Limits { max_bytes, max_depth };
        Self { inner: EnvelopeCodec::with_limits(credentials.inner.clone(), limits) }
    }

    #[getter]
    fn credentials(&self) -> PyCredentials {
        PyCredentials { inner: self.inner.credentials().clone() }
    }

    /// Sign and encrypt `data` into a wire envelope (a dict). Extra keyword fields
    /// (`code`, `message`, `success`, ...) are added at the top level and signed.
    #[pyo3(
        signature = (data, *, timestamp = None, version = None, **fields),
        text_signature = "($self, data, *, timestamp=None, version='2.0.1', **fields)"
    )]
    fn pack(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        timestamp: Option<&Bound<'_, PyString>>,
        version: Option<&Bound<'_, PyString>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyDict>> {
        let members = self.pack_members(py, data, timestamp, version, fields)?;
        members_to_dict(py, &members)
    }

    /// Like `pack`, as compact UTF-8 JSON bytes ready to POST.
    #[pyo3(
        signature = (data, *, timestamp = None, version = None, **fields),
        text_signature = "($self, data, *, timestamp=None, version='2.0.1', **fields)"
    )]
    fn pack_json<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        timestamp: Option<&Bound<'py, PyString>>,
        version: Option<&Bound<'py, PyString>>,
        fields: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let members = self.pack_members(py, data, timestamp, version, fields)?;
        Ok(PyBytes::new(py, crate::json::to_compact(&Value::Object(members)).as_bytes()))
    }

    /// Decrypt, verify and return the message. `envelope` is a dict, or the body as
    /// str/bytes (preferred: numbers keep their literal). With `require_signature=False`
    /// an unsigned envelope (a gateway's bare refusal) is read too: `signed` is then False
    /// and nothing in it is verified.
    #[pyo3(signature = (envelope, *, require_signature = true))]
    fn unpack(&self, py: Python<'_>, envelope: &Bound<'_, PyAny>, require_signature: bool) -> PyResult<PyMessage> {
        let codec = &self.inner;
        // Text is parsed by the core with the GIL released; a dict is converted first.
        let text = match envelope.cast::<PyString>() {
            Ok(s) => Some(text_arg(s, "the envelope")?),
            Err(_) => None,
        };
        let input = match (envelope.cast::<PyBytes>(), &text) {
            (Ok(b), _) => binding::Envelope::Body(b.as_bytes()),
            (_, Some(t)) => binding::Envelope::Body(t.as_bytes()),
            _ => binding::Envelope::Members(envelope_members(py, envelope, codec.limits())?),
        };
        let out = binding::unpack(&Gil(py), codec, input, require_signature, |c| build_message(py, c))?;
        let (data, fields) = out.built;
        Ok(PyMessage { data, fields, sign_text: out.sign_text, status: out.status })
    }

    /// Pack many `data` objects on every core (the GIL is released while signing and
    /// encrypting). Returns a list in the same order: the JSON bytes of each envelope, or
    /// the MedpayError that item raised; one bad item never fails the batch.
    /// `threads` caps the worker threads (default: one per core).
    #[pyo3(
        signature = (items, *, timestamp = None, version = None, threads = None),
        text_signature = "($self, items, *, timestamp=None, version='2.0.1', threads=None)"
    )]
    fn pack_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        timestamp: Option<&Bound<'py, PyString>>,
        version: Option<&Bound<'py, PyString>>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let limits = self.inner.limits();
        let opts = pack_options(timestamp, version)?;
        let emit = |packed: Vec<Result<String, Error>>| -> PyResult<()> {
            for r in packed {
                match r {
                    Ok(body) => out.append(PyBytes::new(py, body.as_bytes()))?,
                    Err(e) => out.append(to_py_err(py, e).into_value(py))?,
                }
            }
            Ok(())
        };
        let input = |item: Bound<'py, PyAny>| Ok(to_value(&item, 0, limits));
        binding::pack_many(&Gil(py), &self.inner, items.try_iter()?, opts, threads, input, emit)?;
        Ok(out)
    }

    /// Unpack many envelopes (bytes, str or dict each) on every core. Returns a list in the
    /// same order: a Message, or the MedpayError that envelope raised.
    #[pyo3(signature = (envelopes, *, require_signature = true, threads = None))]
    fn unpack_many<'py>(
        &self,
        py: Python<'py>,
        envelopes: &Bound<'py, PyAny>,
        require_signature: bool,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let limits = self.inner.limits();
        let emit = |mut opened: Vec<Result<Message, Error>>| -> PyResult<()> {
            let mut conv = Converter::new(py);
            for r in opened.iter_mut() {
                match r {
                    Ok(m) => match message_to_py(&mut conv, m) {
                        Ok(m) => out.append(Py::new(py, m)?)?,
                        // A number this interpreter will not convert is this item's error.
                        Err(e) if is_medpay_error(py, &e) => out.append(e.into_value(py))?,
                        Err(e) => return Err(e),
                    },
                    Err(e) => out.append(to_py_err(py, e.clone()).into_value(py))?,
                }
            }
            Ok(())
        };
        let input = |item: Bound<'py, PyAny>| -> PyResult<BatchEnvelope> {
            Ok(if let Ok(b) = item.cast::<PyBytes>() {
                BatchEnvelope::Body(b.as_bytes().to_vec())
            } else if let Ok(s) = item.cast::<PyString>() {
                match str_text(s) {
                    Ok(t) => BatchEnvelope::Body(t.as_bytes().to_vec()),
                    Err(_) => BatchEnvelope::Invalid(surrogate_error("the envelope")),
                }
            } else if item.cast::<PyDict>().is_ok() {
                match to_value(&item, 0, limits) {
                    Ok(Value::Object(m)) => BatchEnvelope::Members(m),
                    Ok(_) => BatchEnvelope::Invalid(Error::envelope("an envelope is a JSON object")),
                    Err(e) => BatchEnvelope::Invalid(e),
                }
            } else {
                BatchEnvelope::Invalid(Error::envelope(format!(
                    "an envelope is bytes, str or dict, not {}",
                    type_name(&item)
                )))
            })
        };
        binding::unpack_many(&Gil(py), &self.inner, envelopes.try_iter()?, require_signature, threads, input, emit)?;
        Ok(out)
    }

    /// SM4-encrypt `data`'s compact JSON under the data key: uppercase hex (`encData`,
    /// `chnlEncData`).
    fn encrypt_data(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<String> {
        let v = to_value(data, 0, self.inner.limits()).py(py)?;
        Ok(self.inner.credentials().encrypt_data(&v))
    }

    /// Decrypt hex under the data key and parse the JSON inside.
    fn decrypt_data(&self, py: Python<'_>, enc_data: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        let enc_data = text_arg(enc_data, "encData")?;
        let v = self.inner.credentials().decrypt_data(&enc_data, self.inner.limits()).py(py)?;
        to_py(py, &v)
    }

    fn __repr__(&self) -> String {
        format!("<EnvelopeCodec app_id={:?}>", self.inner.credentials().app_id())
    }
}

// ---------------------------------------------------------------------------------------
// Functions

fn bytes_items(items: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    items.try_iter()?.map(|i| i?.extract::<Vec<u8>>()).collect()
}

/// Sign many messages on every core; raw r||s each, in order.
#[pyfunction]
#[pyo3(signature = (private_key, messages, *, uid = DEFAULT_UID.to_vec(), threads = None))]
fn sign_many<'py>(
    py: Python<'py>,
    private_key: &PySM2PrivateKey,
    messages: &Bound<'py, PyAny>,
    uid: Vec<u8>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let msgs = bytes_items(messages)?;
    let key = &private_key.inner;
    let sigs = py.detach(|| crate::batch::parallel_map(&msgs, threads, |m| key.sign(m, &uid)));
    let out = PyList::empty(py);
    for s in sigs {
        out.append(PyBytes::new(py, &s.py(py)?))?;
    }
    Ok(out)
}

/// Verify many (message, signature) pairs on every core; a bool each, in order.
#[pyfunction]
#[pyo3(signature = (public_key, messages, signatures, *, uid = DEFAULT_UID.to_vec(), threads = None))]
fn verify_many(
    py: Python<'_>,
    public_key: &PySM2PublicKey,
    messages: &Bound<'_, PyAny>,
    signatures: &Bound<'_, PyAny>,
    uid: Vec<u8>,
    threads: Option<usize>,
) -> PyResult<Vec<bool>> {
    let msgs = bytes_items(messages)?;
    let sigs = bytes_items(signatures)?;
    if msgs.len() != sigs.len() {
        return Err(PyTypeError::new_err("messages and signatures differ in length"));
    }
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = msgs.into_iter().zip(sigs).collect();
    let key = &public_key.inner;
    Ok(py.detach(|| crate::batch::parallel_map(&pairs, threads, |(m, s)| key.verify(m, s, &uid))))
}

/// SM3 digest (32 bytes).
#[pyfunction(name = "sm3")]
fn sm3_digest<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &crate::sm3::sm3(data))
}

/// SM4-ECB with PKCS#7 padding under a 16-byte key.
#[pyfunction]
fn sm4_ecb_encrypt<'py>(py: Python<'py>, key: &[u8], data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let c = crate::sm4::ecb_encrypt(key, data).py(py)?;
    Ok(PyBytes::new(py, &c))
}

/// Inverse of `sm4_ecb_encrypt`; raises DecryptError on bad length or padding.
#[pyfunction]
fn sm4_ecb_decrypt<'py>(py: Python<'py>, key: &[u8], data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let p = crate::sm4::ecb_decrypt(key, data).py(py)?;
    Ok(PyBytes::new(py, &p))
}

/// JSON text (str or bytes) as Python values, read by the core's parser with the
/// envelope's limits: duplicate keys, NaN, too deep or too large are an EnvelopeError.
#[pyfunction]
#[pyo3(signature = (text, *, max_bytes = 8 * 1024 * 1024, max_depth = 64))]
fn parse_json<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyAny>,
    max_bytes: usize,
    max_depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let limits = Limits { max_bytes, max_depth };
    let mut conv = Converter::new(py);
    if let Ok(b) = text.cast::<PyBytes>() {
        return parse_to_py(&mut conv, b.as_bytes(), limits, envelope::body_json_error);
    }
    if let Ok(s) = text.cast::<PyString>() {
        let s = text_arg(s, "body")?;
        return parse_to_py(&mut conv, s.as_bytes(), limits, envelope::body_json_error);
    }
    Err(PyTypeError::new_err(format!("expected str or bytes, not {}", type_name(text))))
}

/// The sign text of a message (dict, or its JSON text) with plaintext `data`, or with
/// `encData`, which is decrypted with the key derived from its appId and `app_secret`.
#[pyfunction]
#[pyo3(signature = (message, app_secret, *, key_order = None), text_signature = "(message, app_secret, *, key_order='ordinal')")]
fn sign_text(
    py: Python<'_>,
    message: &Bound<'_, PyAny>,
    app_secret: &Bound<'_, PyString>,
    key_order: Option<&Bound<'_, PyString>>,
) -> PyResult<String> {
    let order = match key_order {
        Some(k) => key_order_arg(&text_arg(k, "key_order")?)?,
        None => KeyOrder::Ordinal,
    };
    let app_secret = text_arg(app_secret, "app_secret")?;
    let limits = Limits::default();
    let members = envelope_members(py, message, limits)?;
    envelope::envelope_sign_text(&members, &app_secret, order, limits).py(py)
}

/// The 16-byte SM4 data key of (app_id, app_secret).
#[pyfunction]
fn derive_sm4_key<'py>(
    py: Python<'py>,
    app_id: &Bound<'_, PyString>,
    app_secret: &Bound<'_, PyString>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (app_id, app_secret) = (text_arg(app_id, "app_id")?, text_arg(app_secret, "app_secret")?);
    let k = crate::data_key::derive_sm4_key(&app_id, &app_secret).py(py)?;
    Ok(PyBytes::new(py, &k))
}

/// The outcome of `diagnose`.
#[pyclass(name = "Diagnosis", module = "medpay_core", frozen)]
pub struct PyDiagnosis {
    inner: Diagnosis,
}

#[pymethods]
impl PyDiagnosis {
    /// The protocol's sign text, the appSecret masked as `********` wherever it stands.
    #[getter]
    fn sign_text(&self) -> &str {
        self.inner.shown_sign_text()
    }
    #[getter]
    fn verifies(&self) -> bool {
        self.inner.verifies
    }
    /// The known variant the signer used, when the protocol's text does not verify.
    #[getter]
    fn variant(&self) -> Option<&str> {
        self.inner.variant.as_deref()
    }
    /// The text the signer signed, when a variant explains it; the appSecret masked.
    #[getter]
    fn variant_sign_text(&self) -> Option<&str> {
        self.inner.shown_variant_sign_text()
    }
    /// Whether encData could not be decrypted (the appSecret or appId is probably wrong).
    #[getter]
    fn data_unreadable(&self) -> bool {
        self.inner.data_unreadable
    }
    #[getter]
    fn findings(&self) -> Vec<String> {
        self.inner.findings.clone()
    }
    /// A readable report; the appSecret is masked.
    fn report(&self) -> String {
        self.inner.report()
    }
    fn __str__(&self) -> String {
        self.inner.report()
    }
    fn __repr__(&self) -> String {
        format!("<Diagnosis verifies={} variant={:?}>", self.inner.verifies, self.inner.variant)
    }
}

/// Why does a peer reject this envelope's signature? See `Diagnosis`. `public_key` is the
/// signer's key, or a list of the keys it may have used (`Credentials.peer_public_keys`).
#[pyfunction]
fn diagnose(
    py: Python<'_>,
    envelope: &Bound<'_, PyAny>,
    app_secret: &Bound<'_, PyString>,
    public_key: &Bound<'_, PyAny>,
) -> PyResult<PyDiagnosis> {
    let app_secret = text_arg(app_secret, "app_secret")?;
    let keys = public_keys_arg(py, Some(public_key))?.ok_or_else(|| PyTypeError::new_err("public_key is required"))?;
    let members = envelope_members(py, envelope, Limits::default())?;
    Ok(PyDiagnosis { inner: crate::diagnose::diagnose_with_keys(&members, &app_secret, &keys).py(py)? })
}

/// For published test vectors only: sign with a given k. A fixed k reveals the key, so
/// this exists only in builds with the `fixed-k-vectors` feature, never in the wheel.
#[cfg(feature = "fixed-k-vectors")]
#[pyfunction]
#[pyo3(signature = (private_key, message, k, uid = DEFAULT_UID))]
fn _sign_with_fixed_k<'py>(
    py: Python<'py>,
    private_key: &PySM2PrivateKey,
    message: &[u8],
    k: &[u8],
    uid: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let k: [u8; 32] = k.try_into().map_err(|_| PyTypeError::new_err("k is 32 bytes"))?;
    let e = crate::sm2::signature::message_digest(private_key.inner.public_key(), message, uid).py(py)?;
    let sig = private_key
        .inner
        .sign_digest_with_k(&e, &k)
        .ok_or_else(|| to_py_err(py, Error::signature("k is out of range for this message")))?;
    Ok(PyBytes::new(py, &sig))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySM2PrivateKey>()?;
    m.add_class::<PySM2PublicKey>()?;
    m.add_class::<PyCredentials>()?;
    m.add_class::<PyEnvelopeCodec>()?;
    m.add_class::<PyMessage>()?;
    m.add_class::<PyDiagnosis>()?;
    m.add_function(wrap_pyfunction!(sm3_digest, m)?)?;
    m.add_function(wrap_pyfunction!(sm4_ecb_encrypt, m)?)?;
    m.add_function(wrap_pyfunction!(sm4_ecb_decrypt, m)?)?;
    m.add_function(wrap_pyfunction!(sign_text, m)?)?;
    m.add_function(wrap_pyfunction!(parse_json, m)?)?;
    m.add_function(wrap_pyfunction!(derive_sm4_key, m)?)?;
    m.add_function(wrap_pyfunction!(diagnose, m)?)?;
    #[cfg(feature = "fixed-k-vectors")]
    m.add_function(wrap_pyfunction!(_sign_with_fixed_k, m)?)?;
    m.add_function(wrap_pyfunction!(sign_many, m)?)?;
    m.add_function(wrap_pyfunction!(verify_many, m)?)?;
    m.add("PROTOCOL_VERSION", envelope::VERSION)?;
    Ok(())
}
