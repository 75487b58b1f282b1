//! NuGet passes the conformance kit (being written by the lead).
