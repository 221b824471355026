package Koha::Plugin::Org::KohaWebhooks;

# Copyright the koha-webhooks contributors.
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs the koha-webhooks program from Koha's before_send_messages hook, so
# that webhook notices are delivered, and leave the pending queue, before
# Koha's own sender e-mails what is still pending.

use strict;
use warnings;

use base qw(Koha::Plugins::Base);

use C4::Context;
use IPC::Open3 qw(open3);

our $VERSION = '{VERSION}';

# Where the Debian package installs the program.
our $DEFAULT_BINARY = '/usr/bin/koha-webhooks';
our $PROJECT_URL    = 'https://github.com/koha-webhooks/koha-webhooks';

our $metadata = {
    name            => 'koha-webhooks',
    author          => 'koha-webhooks contributors',
    description     => 'Runs koha-webhooks before Koha sends queued notices, so that webhook notices reach the notice service and are never e-mailed as raw YAML.',
    date_authored   => '2026-12-04',
    date_updated    => '2026-12-04',
    minimum_version => '22.11.00.000',
    maximum_version => undef,
    version         => $VERSION,
};

sub new {
    my ( $class, $args ) = @_;
    $args->{metadata} = { %$metadata, class => $class };
    return $class->SUPER::new($args);
}

# binary_path returns the configured program path, or the default.
sub binary_path {
    my ($self) = @_;
    return $self->retrieve_data('binary') || $DEFAULT_BINARY;
}

# before_send_messages runs `koha-webhooks run` with the parameters Koha
# passes and waits for it. Koha calls it before it selects any notice to
# send: once per process_message_queue.pl run, and from Koha 25.05 on each
# time SendQueuedMessages is called. The earliest releases pass no
# parameters, older ones plain strings for type and letter_code, newer ones
# array references.
#
# Failure policy: when the program is missing or fails, the hook warns and
# then dies. Koha catches the error and warns again; with
# process_message_queue.pl --exit-on-plugin-failure it stops before sending,
# so that no webhook notice is e-mailed as raw YAML.
sub before_send_messages {
    my ( $self, $params ) = @_;
    $params = {} unless ref $params eq 'HASH';

    if ( defined $params->{where} && $params->{where} ne '' ) {
        _log( info => 'koha-webhooks: the where parameter was ignored; koha-webhooks never runs SQL fragments' );
    }

    my $binary = $self->binary_path;
    unless ( -f $binary && -x _ ) {
        _fail("koha-webhooks program not found or not executable at $binary: webhook notices were NOT sent. "
              . "Install koha-webhooks, or set its path on this plugin's configuration page.");
    }

    my @command = ( $binary, 'run', $self->command_arguments($params) );
    my ( $status, @output ) = _run_command(@command);
    if ( $params->{verbose} ) {
        print "$_\n" for @output;
    }

    my ($summary) = grep { /msg="?pass (finished|skipped|stopped)/ } reverse @output;
    _log( info => "koha-webhooks: $summary" ) if defined $summary;

    if ( $status != 0 ) {
        my $last = @output ? $output[-1] : 'no output';
        _fail("koha-webhooks exited with status $status: $last");
    }
    return 1;
}

# command_arguments turns the hook's parameters into flags of
# `koha-webhooks run`. The where parameter is never passed.
sub command_arguments {
    my ( $self, $params ) = @_;
    my @args;
    push @args, map { ( '--type', $_ ) } _values( $params->{type} );
    push @args, map { ( '--letter-code', $_ ) } _values( $params->{letter_code} );
    for my $name (qw(message_id borrowernumber)) {
        my $value = $params->{$name};
        next unless defined $value && $value ne '';
        ( my $flag = $name ) =~ tr/_/-/;
        push @args, "--$flag", $value;
    }
    if ( defined $params->{limit} && $params->{limit} =~ /^\d+$/ && $params->{limit} > 0 ) {
        push @args, '--limit', $params->{limit};
    }
    my $verbose = $params->{verbose} && $params->{verbose} =~ /^\d+$/ ? $params->{verbose} : 0;
    push @args, ('-v') x ( $verbose > 3 ? 3 : $verbose );

    my $instance = $self->instance_name;
    push @args, '--instance', $instance if defined $instance;
    return @args;
}

# _values returns the non-empty values of a parameter that is an array
# reference or a plain string.
sub _values {
    my ($value) = @_;
    my @values = ref $value eq 'ARRAY' ? @$value : ($value);
    return grep { defined $_ && $_ ne '' } @values;
}

# instance_name returns the Koha instance name when it is known: from
# KOHA_CONF of the form <sites dir>/NAME/koha-conf.xml, or from a database
# named koha_NAME (the koha-create convention) when that instance directory
# exists. It returns undef otherwise, and koha-webhooks then finds
# koha-conf.xml through KOHA_CONF, which it inherits.
sub instance_name {
    my ($self) = @_;
    my $sites = $ENV{KOHA_SITES_DIR} || '/etc/koha/sites';
    my $conf  = $ENV{KOHA_CONF} // '';
    if ( $conf =~ m{^\Q$sites\E/+([^/]+)/+koha-conf\.xml$} ) {
        return $1;
    }
    my $database = C4::Context->config('database') // '';
    if ( $database =~ /^koha_([A-Za-z0-9_.-]+)$/ && -f "$sites/$1/koha-conf.xml" ) {
        return $1;
    }
    return;
}

# _run_command runs the command without a shell, with standard error merged
# into standard output, and returns its exit status and output lines.
sub _run_command {
    my (@command) = @_;
    my ( $pid, $output );
    eval {
        $pid = open3( my $input, $output, undef, @command );
        close $input;
        1;
    } or return ( 127, "cannot start $command[0]: $@" );

    my @lines;
    while ( my $line = <$output> ) {
        chomp $line;
        push @lines, $line;
    }
    close $output;
    waitpid( $pid, 0 );
    my $status = $? & 127 ? 128 + ( $? & 127 ) : $? >> 8;
    return ( $status, @lines );
}

sub _log {
    my ( $level, $message ) = @_;
    my $logged = eval {
        require Koha::Logger;
        Koha::Logger->get->$level($message);
        1;
    };
    warn "$message\n" if $level eq 'warn' || !$logged;
    return;
}

sub _fail {
    my ($message) = @_;
    _log( warn => $message );
    die "koha-webhooks did not complete; see the warning above\n";
}

# configure shows where the program is and whether it exists, and stores
# a new path.
sub configure {
    my ( $self, $args ) = @_;
    my $cgi = $self->{cgi};
    my $op  = $cgi->param('op') // '';
    if ( $op eq 'cud-save' || $op eq 'save' ) {
        my $binary = $cgi->param('binary') // '';
        $binary =~ s/^\s+|\s+$//g;
        my $template = $self->get_template( { file => 'configure.tt' } );
        if ( $binary ne '' && $binary !~ m{^/} ) {
            $template->param( error => 'The path must be absolute, such as /usr/bin/koha-webhooks.' );
        } else {
            $self->store_data( { binary => $binary } );
            $template->param( saved => 1 );
        }
        return $self->_show( $template );
    }
    return $self->_show( $self->get_template( { file => 'configure.tt' } ) );
}

sub _show {
    my ( $self, $template ) = @_;
    my $binary     = $self->binary_path;
    my $executable = -f $binary && -x _;
    my $version    = '';
    if ($executable) {
        my ( $status, @output ) = _run_command( $binary, 'version' );
        $version = $output[0] // '' if $status == 0;
    }
    $template->param(
        binary         => $binary,
        default_binary => $DEFAULT_BINARY,
        exists         => ( -e $binary ? 1 : 0 ),
        executable     => ( $executable ? 1 : 0 ),
        binary_version => $version,
        instance       => $self->instance_name // '',
        project_url    => $PROJECT_URL,
        plugin_version => $VERSION,
    );
    $self->output_html( $template->output );
    return;
}

1;
