"""operations carry a lease while a worker runs them, and count their attempts and sends

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('operations', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('operations', sa.Column('sends', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('operations', sa.Column('sent', sa.DateTime(timezone=True), nullable=False,
                                          server_default=sa.func.now()))
    op.add_column('operations', sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_operations_state', 'operations', ['state'])


def downgrade():
    op.drop_index('ix_operations_state', table_name='operations')
    op.drop_column('operations', 'lease_until')
    op.drop_column('operations', 'sent')
    op.drop_column('operations', 'sends')
    op.drop_column('operations', 'attempts')
