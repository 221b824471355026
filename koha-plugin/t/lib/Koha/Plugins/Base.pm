package Koha::Plugins::Base;

# Test stand-in for Koha's plugin base class: plugin data lives in a hash
# and templates record their parameters.

use strict;
use warnings;

our %DATA;
our @OUTPUT;

sub new {
    my ( $class, $args ) = @_;
    return bless {%$args}, $class;
}

sub retrieve_data {
    my ( $self, $key ) = @_;
    return $DATA{$key};
}

sub store_data {
    my ( $self, $values ) = @_;
    %DATA = ( %DATA, %$values );
    return 1;
}

sub get_template {
    my ( $self, $args ) = @_;
    return Koha::Plugins::Base::Template->new( $args->{file} );
}

sub output_html {
    my ( $self, $html ) = @_;
    push @OUTPUT, $html;
    return;
}

package Koha::Plugins::Base::Template;

sub new {
    my ( $class, $file ) = @_;
    return bless { file => $file, params => {} }, $class;
}

sub param {
    my ( $self, %params ) = @_;
    $self->{params} = { %{ $self->{params} }, %params };
    return;
}

# output returns the parameters, so tests can inspect them.
sub output {
    my ($self) = @_;
    return $self->{params};
}

1;
