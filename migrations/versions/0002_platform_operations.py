"""operations may target the platform instead of an app

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column('operations', 'app_id', existing_type=sa.String(length=63), nullable=True)
    op.alter_column('operations', 'app_uuid', existing_type=sa.Uuid(), nullable=True)


def downgrade():
    op.execute("DELETE FROM operations WHERE app_uuid IS NULL")
    op.alter_column('operations', 'app_uuid', existing_type=sa.Uuid(), nullable=False)
    op.alter_column('operations', 'app_id', existing_type=sa.String(length=63), nullable=False)
