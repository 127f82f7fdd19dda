/* The scan of a JPEG's entropy-coded data, in C (decision 009).
 *
 * entropy_end(data, pos) answers exactly what clinphoto.imaging.jpeg._entropy_end_py
 * answers, which is exactly the first match of the regular expression
 * \xff[^\x00\xd0-\xd7\xff] at or after pos: the offset of the first 0xFF that begins a
 * marker, or -1. Inside entropy-coded data 0xFF is followed by 0x00 (stuffing, the 0x00
 * cannot start a marker), 0xD0-0xD7 (a restart marker) or 0xFF (a fill byte); anything else
 * ends the scan. Every 0xFF is looked at; memchr jumps between them at memory speed, where
 * the Python loop pays about 150 ns of interpreter for each of the ~5,500 0xFF bytes of a
 * 12 MP photo. The tests hold both implementations to the expression.
 *
 * The buffer is held through the buffer protocol for the call (a bytearray cannot be
 * resized meanwhile), and the GIL is released during the scan, so a server scrubbing
 * uploads does not stall its other threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static Py_ssize_t
scan(const unsigned char *p, Py_ssize_t n, Py_ssize_t pos)
{
    const Py_ssize_t last = n - 1;
    const unsigned char *hit;

    if (pos >= n)
        return -1;
    hit = memchr(p + pos, 0xFF, (size_t)(n - pos));
    while (hit != NULL) {
        const Py_ssize_t at = hit - p;
        Py_ssize_t next;
        unsigned char after;

        if (at >= last)  /* a final 0xFF starts no marker */
            return -1;
        after = p[at + 1];
        if (after == 0x00)
            next = at + 2;  /* stuffing: the 0x00 cannot start a marker */
        else if (after == 0xFF || (after >= 0xD0 && after <= 0xD7))
            next = at + 1;  /* a fill byte or RSTn: look at the next byte */
        else
            return at;
        if (next >= n)
            return -1;
        hit = memchr(p + next, 0xFF, (size_t)(n - next));
    }
    return -1;
}

static PyObject *
entropy_end(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t pos, found;

    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "entropy_end(data, pos) takes exactly 2 arguments");
        return NULL;
    }
    pos = PyNumber_AsSsize_t(args[1], PyExc_OverflowError);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    if (pos < 0) {
        PyErr_SetString(PyExc_ValueError, "pos must not be negative");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    found = scan((const unsigned char *)view.buf, view.len, pos);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(found);
}

static PyMethodDef methods[] = {
    {"entropy_end", (PyCFunction)(void (*)(void))entropy_end, METH_FASTCALL,
     "entropy_end(data, pos) -> offset of the first marker at or after pos in "
     "entropy-coded data, or -1 if none."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_jpegscan",
    .m_doc = "The scan of a JPEG's entropy-coded data, in C (clinphoto.imaging.jpeg).",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__jpegscan(void)
{
    return PyModuleDef_Init(&module);
}
