"""Painel de vendas ao vivo (Streamlit) sobre os totais que o consumidor grava no PostgreSQL.

Uso:
    export VENDAS_BANCO=postgresql://usuario:senha@host:5432/vendas
    python painel_vendas.py [--porta 8501] [--host 127.0.0.1] [--atualizar 3]

O mesmo arquivo é o script que o Streamlit executa (streamlit run painel_vendas.py).
"""

from __future__ import annotations

from vendas.dashboard.app import main

if __name__ == "__main__":
    main()
