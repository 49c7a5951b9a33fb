"""people, enterprises, agents, profile

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:52:20.042766
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprises_uscc'))
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('id_number_hash', sa.String(length=64), nullable=True),
    sa.Column('phone_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('highest_level', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_people_issuer_subject'))
    )
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_id_number_hash'), ['id_number_hash'], unique=False)

    op.create_table('agent_authorizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=False),
    sa.Column('agent_name', sa.String(length=100), nullable=False),
    sa.Column('agent_id_number_hash', sa.String(length=64), nullable=False),
    sa.Column('agent_id_number_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('agent_person_id', sa.Integer(), nullable=True),
    sa.Column('all_matters', sa.Boolean(), nullable=False),
    sa.Column('thing_codes', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_person_id'], ['people.id'], name=op.f('fk_agent_authorizations_agent_person_id_people')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['people.id'], name=op.f('fk_agent_authorizations_ended_by_id_people')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_agent_authorizations_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['people.id'], name=op.f('fk_agent_authorizations_granted_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_authorizations'))
    )
    with op.batch_alter_table('agent_authorizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_authorizations_agent_id_number_hash'), ['agent_id_number_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_authorizations_agent_person_id'), ['agent_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_authorizations_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_consents_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_person_id'), ['person_id'], unique=False)

    op.create_table('enterprise_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('asserted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_roles_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_enterprise_roles_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_roles')),
    sa.UniqueConstraint('person_id', 'enterprise_id', name=op.f('uq_enterprise_roles_person_id_enterprise_id'))
    )
    op.create_table('profile_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_profile_entries_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_entries'))
    )
    with op.batch_alter_table('profile_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_entries_person_id'), ['person_id'], unique=False)

    op.create_table('wechat_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('appid', sa.String(length=64), nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('unionid', sa.String(length=128), nullable=True),
    sa.Column('level', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_wechat_bindings_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_bindings')),
    sa.UniqueConstraint('openid', name=op.f('uq_wechat_bindings_openid'))
    )
    with op.batch_alter_table('wechat_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wechat_bindings_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('wechat_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wechat_bindings_person_id'))

    op.drop_table('wechat_bindings')
    with op.batch_alter_table('profile_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_entries_person_id'))

    op.drop_table('profile_entries')
    op.drop_table('enterprise_roles')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_person_id'))

    op.drop_table('consents')
    with op.batch_alter_table('agent_authorizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_authorizations_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_agent_authorizations_agent_person_id'))
        batch_op.drop_index(batch_op.f('ix_agent_authorizations_agent_id_number_hash'))

    op.drop_table('agent_authorizations')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_id_number_hash'))

    op.drop_table('people')
    op.drop_table('enterprises')
