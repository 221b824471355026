// Package kohaconf reads a Koha instance's koha-conf.xml: the database
// connection, the encryption key and any other setting under <config>.
//
// A koha-conf.xml has a root element (<yazgfs> in the files Koha ships) that
// contains Zebra sections (<listen>, <server>, <serverinfo>) and one <config>
// element. Every child element of <config> is a setting, which Koha returns
// from C4::Context->config("name"). Only that <config> element is read. The
// Zebra sections are skipped, including the <config> elements nested inside
// <server>, which name Zebra configuration files.
//
// Setting values keep their text as written, as Koha's XML::Simple reading
// does, except that a value of only white space counts as empty. The typed
// fields of Config trim white space, except Pass and EncryptionKey, which
// Koha uses exactly as written.
//
// DSN and MySQLConfig build a database connection that follows Koha's own.
// MySQLConfig documents the details, including the TLS certificate checks.
package kohaconf
